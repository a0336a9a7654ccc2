package kinde

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/clubhouse/clubhouse/internal/club"
)

// lookupPageSize is the page size of an email lookup. An exact email
// matches one person; the room is for Kinde filters that match loosely.
const lookupPageSize = "50"

// FindPersonByEmail looks a person up by exact email with one filtered
// getUsers call (never a listing of everyone). Kinde's match is checked
// again here, case-insensitively. Nobody → an error for which
// errors.Is(err, club.ErrNotFound).
func (a *Admin) FindPersonByEmail(ctx context.Context, email string) (club.Person, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || strings.ContainsAny(email, ", ") {
		// Kinde reads a comma as a list of emails.
		return club.Person{}, fmt.Errorf("kinde: find person: not a single email: %w", club.ErrNotFound)
	}
	q := url.Values{"email": {email}, "page_size": {lookupPageSize}}
	var resp usersResponse
	if err := a.call(ctx, opGetUsers, nil, q, nil, &resp); err != nil {
		return club.Person{}, fmt.Errorf("kinde: find person: %w", err)
	}
	for _, u := range resp.Users {
		if u.ID != "" && strings.EqualFold(strings.TrimSpace(u.Email), email) {
			return club.Person{ID: u.ID, Email: email, FirstName: u.FirstName, LastName: u.LastName}, nil
		}
	}
	return club.Person{}, fmt.Errorf("kinde: find person: no user with that email: %w", club.ErrNotFound)
}

// PersonClubs re-reads a person from Kinde with the codes of the clubs
// (organizations) they belong to, sorted: one getUsers call filtered by
// user id, with expand=organizations. The portal treats a webhook as a
// notification only and asks Kinde for the person as they are now, so a
// late, repeated or out-of-order delivery cannot roll anything back. A
// person Kinde no longer has → an error for which
// errors.Is(err, club.ErrNotFound).
func (a *Admin) PersonClubs(ctx context.Context, userID string) (club.Person, []string, error) {
	userID = strings.TrimSpace(userID)
	if userID == "" || strings.ContainsAny(userID, ", ") {
		// No user_id filter lists everyone; a comma is a list of ids.
		return club.Person{}, nil, fmt.Errorf("kinde: person clubs: not a single user id: %w", club.ErrNotFound)
	}
	q := url.Values{"user_id": {userID}, "expand": {"organizations"}}
	var resp usersResponse
	if err := a.call(ctx, opGetUsers, nil, q, nil, &resp); err != nil {
		return club.Person{}, nil, fmt.Errorf("kinde: person clubs: %w", err)
	}
	for _, u := range resp.Users {
		if u.ID != userID {
			continue
		}
		codes := make([]string, 0, len(u.Organizations))
		for _, c := range u.Organizations {
			if c = strings.TrimSpace(c); c != "" {
				codes = append(codes, c)
			}
		}
		slices.Sort(codes)
		p := club.Person{
			ID:        u.ID,
			Email:     strings.ToLower(strings.TrimSpace(u.Email)),
			FirstName: u.FirstName,
			LastName:  u.LastName,
		}
		return p, slices.Compact(codes), nil
	}
	return club.Person{}, nil, fmt.Errorf("kinde: person clubs: no user with that id: %w", club.ErrNotFound)
}

// CreatePerson creates a person with an email identity as a member of the
// club (no roles yet). When Kinde already has someone with that email it
// answers 400 "Email already in use", returned as club.ErrEmailInUse.
func (a *Admin) CreatePerson(ctx context.Context, p club.Person, clubCode string) (club.Person, error) {
	email := strings.ToLower(strings.TrimSpace(p.Email))
	if email == "" {
		return club.Person{}, club.Errorf(club.EINVALID, "Enter an email address.")
	}
	req := createUserRequest{
		Profile:          createUserProfile{GivenName: p.FirstName, FamilyName: p.LastName},
		OrganizationCode: clubCode,
		Identities:       []createUserIdentity{{Type: "email", Details: identityDetails{Email: email}}},
	}
	var resp createUserResponse
	if err := a.call(ctx, opCreateUser, nil, nil, req, &resp); err != nil {
		if emailInUse(err) {
			return club.Person{}, fmt.Errorf("kinde: create person: %w (%w)", club.ErrEmailInUse, err)
		}
		return club.Person{}, fmt.Errorf("kinde: create person: %w", err)
	}
	if resp.ID == "" {
		return club.Person{}, errors.New("kinde: create person: Kinde returned no user id")
	}
	return club.Person{ID: resp.ID, Email: email, FirstName: p.FirstName, LastName: p.LastName}, nil
}

// emailInUse recognises Kinde's duplicate-email refusal by its message: the
// message "Email already in use" is attested, its error code is not.
func emailInUse(err error) bool {
	var e *APIError
	return errors.As(err, &e) && e.Status == 400 &&
		strings.Contains(strings.ToLower(e.Message), "email already in use")
}

// RefreshClaims tells Kinde that userID's token claims are out of date, so
// their next token refresh carries their current roles.
func (a *Admin) RefreshClaims(ctx context.Context, userID string) error {
	var resp successResponse
	if err := a.call(ctx, opRefreshUserClaims, []string{userID}, nil, nil, &resp); err != nil {
		return fmt.Errorf("kinde: refresh claims: %w", err)
	}
	return nil
}
