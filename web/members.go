package web

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/views"
)

// membersPageSize is how many members one page lists.
const membersPageSize = 50

// maxFormBytes bounds a form body; the portal's forms are tiny.
const maxFormBytes = 64 << 10

// currentClub is the club of the verified token: the only club a request
// can act on.
func currentClub(id club.Identity) club.Club {
	return club.Club{Code: id.ClubCode, Name: clubName(id, id.ClubCode)}
}

// parseForm reads a bounded form body.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return &club.Error{Code: club.EINVALID, Err: fmt.Errorf("web: parse form: %w", err),
			Message: "The form could not be read. Nothing was changed. Try again."}
	}
	return nil
}

// fieldError returns err's message for a form field ("" when none).
func fieldError(err error, field string) string {
	var e *club.Error
	if errors.As(err, &e) {
		return e.Fields[field]
	}
	return ""
}

// fieldErrors returns err's messages for the form's fields (nil when
// none), to show next to each.
func fieldErrors(err error) views.FieldErrors {
	var e *club.Error
	if errors.As(err, &e) {
		return maps.Clone(e.Fields)
	}
	return nil
}

// formLevelError returns the message shown above a form for err: nothing
// when every problem is shown next to a field.
func formLevelError(err error) string {
	var e *club.Error
	if errors.As(err, &e) && len(e.Fields) > 0 && e.Code == club.EINVALID {
		return ""
	}
	return club.ErrorMessage(err)
}

// clubRoles lists the roles a club can grant.
func (s *Server) clubRoles(r *http.Request) ([]club.Role, error) {
	roles, err := s.roles.Roles(r.Context())
	if err != nil {
		return nil, fmt.Errorf("web: roles: %w", err)
	}
	// Staff is the platform's own role, never granted by a club.
	return slices.DeleteFunc(slices.Clone(roles), func(ro club.Role) bool { return ro.Key == "staff" }), nil
}

// viewRoles converts domain roles for the views.
func viewRoles(roles []club.Role) []views.Role {
	out := make([]views.Role, 0, len(roles))
	for _, ro := range roles {
		out = append(out, views.Role{Key: ro.Key, Name: ro.Name})
	}
	return out
}

// roleBadges names role keys for badges. When Kinde's role list cannot be
// read, the keys are shown as they are rather than failing the page.
func (s *Server) roleBadges(r *http.Request, keys []string) []views.Role {
	roles, err := s.roles.Roles(r.Context())
	if err != nil {
		s.logger.WarnContext(r.Context(), "web: roles for badges", "err", err)
	}
	return badges(roles, keys)
}

func badges(roles []club.Role, keys []string) []views.Role {
	out := make([]views.Role, 0, len(keys))
	for _, k := range keys {
		b := views.Role{Key: k}
		if i := slices.IndexFunc(roles, func(ro club.Role) bool { return ro.Key == k }); i >= 0 {
			b.Name = roles[i].Name
		}
		out = append(out, b)
	}
	return out
}

func memberRow(m club.Member, roles []club.Role, me club.Identity) views.MemberRow {
	return views.MemberRow{
		ID:     m.UserID,
		Name:   m.Name(),
		Email:  m.Email,
		Roles:  badges(roles, m.Roles),
		Joined: m.JoinedAt,
		You:    m.UserID == me.UserID,
	}
}

// pageParam reads a 1-based page number; anything odd is page 1.
func pageParam(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 1
	}
	return min(n, 100000)
}

// maxSearchLength bounds a member search.
const maxSearchLength = 100

// searchParam trims a search and bounds its length.
func searchParam(q string) string {
	q = strings.TrimSpace(q)
	if !utf8.ValidString(q) {
		return ""
	}
	if utf8.RuneCountInString(q) > maxSearchLength {
		q = string([]rune(q)[:maxSearchLength])
	}
	return q
}

// lookupMember finds a member of the current club by id. An id from
// another club, or an unknown one, is not found.
func (s *Server) lookupMember(r *http.Request, id club.Identity) (club.Member, error) {
	userID := r.PathValue("id")
	if userID == "" || len(userID) > 64 {
		return club.Member{}, errMemberNotFound
	}
	m, err := s.directory.Member(r.Context(), id.ClubCode, userID)
	switch {
	case errors.Is(err, club.ErrNotFound) || (err == nil && m.Pending):
		return club.Member{}, errMemberNotFound
	case err != nil:
		return club.Member{}, fmt.Errorf("web: member: %w", err)
	}
	return m, nil
}

var errMemberNotFound = &club.Error{Code: club.ENOTFOUND,
	Message: "That person is not a member of this club. Nothing was changed."}
