package emulator

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// State is the whole emulated Kinde business as plain, JSON-serializable
// data. Seeds, exports and imports are all a State.
type State struct {
	Business    Business     `json:"business"`
	Keys        []SigningKey `json:"keys,omitempty"`
	Apps        []App        `json:"apps"`
	APIs        []API        `json:"apis"`
	Orgs        []Org        `json:"orgs"`
	Users       []User       `json:"users"`
	Roles       []Role       `json:"roles"`
	Permissions []Permission `json:"permissions"`
	Memberships []Membership `json:"memberships"`
	Webhooks    []Webhook    `json:"webhooks,omitempty"`
	Invites     []Invite     `json:"invites,omitempty"`
}

// Business describes the Kinde business (tenant) being emulated.
type Business struct {
	Name string `json:"name"`
	// Subdomain is the <sub> of https://<sub>.kinde.com. Tokens whose audience
	// is https://<sub>.kinde.com/api are accepted by the Management API.
	Subdomain string `json:"subdomain,omitempty"`
}

// SigningKey is an RS256 key the emulator signs tokens and webhooks with. It
// lives in the world so that export/import keeps the JWKS stable.
type SigningKey struct {
	KID           string    `json:"kid"`
	PrivateKeyPEM string    `json:"private_key_pem"`
	CreatedAt     time.Time `json:"created_at"`
}

// App is a Kinde application: a regular web app ("reg") that signs people in,
// or a machine-to-machine app ("m2m") that calls the Management API.
type App struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	Name         string   `json:"name"`
	Type         string   `json:"type"`
	RedirectURIs []string `json:"redirect_uris,omitempty"`
	LogoutURIs   []string `json:"logout_uris,omitempty"`
	// Scopes are the Management API scopes granted to an m2m app.
	Scopes []string `json:"scopes,omitempty"`
	// APIAudiences are the API audiences a reg app may request.
	APIAudiences []string `json:"api_audiences,omitempty"`
}

// App types.
const (
	AppTypeRegular = "reg"
	AppTypeM2M     = "m2m"
)

// API is a custom API registered in the business, identified by its audience.
type API struct {
	Name     string `json:"name"`
	Audience string `json:"audience"`
}

// Org is a Kinde organization; in Clubhouse, a club.
type Org struct {
	Code                    string    `json:"code"`
	Name                    string    `json:"name"`
	Handle                  string    `json:"handle,omitempty"`
	ExternalID              string    `json:"external_id,omitempty"`
	IsDefault               bool      `json:"is_default,omitempty"`
	IsAutoMembershipEnabled bool      `json:"is_auto_membership_enabled,omitempty"`
	IsSuspended             bool      `json:"is_suspended,omitempty"`
	CreatedOn               time.Time `json:"created_on"`
}

// User is a person in the business.
type User struct {
	ID                       string     `json:"id"`
	ProvidedID               string     `json:"provided_id,omitempty"`
	Email                    string     `json:"email,omitempty"`
	Username                 string     `json:"username,omitempty"`
	Phone                    string     `json:"phone,omitempty"`
	FirstName                string     `json:"first_name,omitempty"`
	LastName                 string     `json:"last_name,omitempty"`
	Picture                  string     `json:"picture,omitempty"`
	IsSuspended              bool       `json:"is_suspended,omitempty"`
	IsPasswordResetRequested bool       `json:"is_password_reset_requested,omitempty"`
	CreatedOn                time.Time  `json:"created_on"`
	LastSignedIn             *time.Time `json:"last_signed_in,omitempty"`
	TotalSignIns             int        `json:"total_sign_ins,omitempty"`
	FailedSignIns            int        `json:"failed_sign_ins,omitempty"`
}

// FullName is the person's first and last name joined by a space.
func (u User) FullName() string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// Role is a business-wide role that can be given to a member of an org.
type Role struct {
	ID            string   `json:"id"`
	Key           string   `json:"key"`
	Name          string   `json:"name"`
	Description   string   `json:"description,omitempty"`
	IsDefaultRole bool     `json:"is_default_role,omitempty"`
	PermissionIDs []string `json:"permission_ids,omitempty"`
}

// Permission is a business-wide permission, granted through roles or directly.
type Permission struct {
	ID          string `json:"id"`
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Membership says a user belongs to an org, with roles and direct permissions.
type Membership struct {
	OrgCode        string     `json:"org_code"`
	UserID         string     `json:"user_id"`
	RoleIDs        []string   `json:"role_ids,omitempty"`
	PermissionIDs  []string   `json:"permission_ids,omitempty"`
	JoinedOn       time.Time  `json:"joined_on"`
	LastAccessedOn *time.Time `json:"last_accessed_on,omitempty"`
}

// Webhook is a registered webhook endpoint.
type Webhook struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Endpoint    string    `json:"endpoint"`
	EventTypes  []string  `json:"event_types"`
	CreatedOn   time.Time `json:"created_on"`
}

// Invite is an invitation for someone to join an org with some roles.
type Invite struct {
	ID         string     `json:"id"`
	Code       string     `json:"code"`
	OrgCode    string     `json:"org_code"`
	Email      string     `json:"email"`
	FirstName  string     `json:"first_name,omitempty"`
	LastName   string     `json:"last_name,omitempty"`
	RoleKeys   []string   `json:"role_keys,omitempty"`
	IsSent     bool       `json:"is_sent,omitempty"`
	IsRevoked  bool       `json:"is_revoked,omitempty"`
	CreatedOn  time.Time  `json:"created_on"`
	AcceptedOn *time.Time `json:"accepted_on,omitempty"`
}

// Event is a change in the world, shaped for Kinde webhooks: Data is already
// the webhook payload's "data" object.
type Event struct {
	ID     string         `json:"event_id"`
	Type   string         `json:"type"`
	Source string         `json:"source"`
	Data   map[string]any `json:"data"`
	Time   time.Time      `json:"timestamp"`
}

// Event sources, as Kinde names them.
const (
	SourceAPI   = "api"
	SourceAdmin = "admin"
	SourceUser  = "user"
)

// Errors returned by World methods. Not-found errors are *NotFoundError values
// that match ErrNotFound with errors.Is.
var (
	ErrNotFound        = errors.New("emulator: not found")
	ErrEmailInUse      = errors.New("emulator: email already in use")
	ErrAlreadyMember   = errors.New("emulator: user is already a member of the organization")
	ErrNotMember       = errors.New("emulator: user is not a member of the organization")
	ErrInvalid         = errors.New("emulator: invalid input")
	ErrDuplicateKey    = errors.New("emulator: key already exists")
	ErrDefaultOrg      = errors.New("emulator: the default organization cannot be deleted")
	ErrInvitePending   = errors.New("emulator: a pending invitation already exists for this email")
	ErrAlreadyHasRole  = errors.New("emulator: member already has the role")
	ErrDoesNotHaveRole = errors.New("emulator: member does not have the role")
)

// NotFoundError says which kind of thing was not found, and by which key.
type NotFoundError struct {
	Kind string // "user", "organization", "role", "permission", "webhook", "invite"
	Key  string
}

func (e *NotFoundError) Error() string {
	return fmt.Sprintf("emulator: %s %q not found", e.Kind, e.Key)
}

// Is makes errors.Is(err, ErrNotFound) true.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

func notFound(kind, key string) error { return &NotFoundError{Kind: kind, Key: key} }

type userEntry struct {
	u   User
	seq uint64
}

type orgEntry struct {
	o   Org
	seq uint64
}

type memberEntry struct {
	m   Membership
	seq uint64
}

// World is the one in-memory Kinde business behind every emulator surface.
// All methods are safe for concurrent use and return copies.
type World struct {
	clock Clock

	mu       sync.RWMutex
	seq      uint64
	business Business
	keys     []SigningKey
	apps     []App
	apis     []API

	users     map[string]*userEntry
	userOrder []*userEntry // by seq
	byEmail   map[string]string

	orgs     map[string]*orgEntry
	orgOrder []*orgEntry // by seq

	roles       []Role
	permissions []Permission

	members  map[string]map[string]*memberEntry // org code -> user id -> membership
	userOrgs map[string]map[string]struct{}     // user id -> org codes

	webhooks []Webhook
	invites  []Invite

	claims map[string]int

	subMu sync.RWMutex
	subs  []func(Event)
}

func newWorld(s State, clock Clock) (*World, error) {
	w := &World{clock: clock}
	if err := w.load(s); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *World) now() time.Time { return w.clock.Now().UTC() }

func (w *World) nextSeq() uint64 {
	w.seq++
	return w.seq
}

// load replaces the whole state. Callers hold the write lock (or own w).
func (w *World) load(s State) error {
	s = cloneState(s)
	users := make(map[string]*userEntry, len(s.Users))
	byEmail := make(map[string]string, len(s.Users))
	order := make([]*userEntry, 0, len(s.Users))
	var seq uint64
	for _, u := range s.Users {
		if u.ID == "" {
			return fmt.Errorf("emulator: load: user %q has no id: %w", u.Email, ErrInvalid)
		}
		if _, dup := users[u.ID]; dup {
			return fmt.Errorf("emulator: load: duplicate user id %q: %w", u.ID, ErrInvalid)
		}
		if u.Email != "" {
			k := emailKey(u.Email)
			if _, dup := byEmail[k]; dup {
				return fmt.Errorf("emulator: load: duplicate email %q: %w", u.Email, ErrEmailInUse)
			}
			byEmail[k] = u.ID
		}
		seq++
		e := &userEntry{u: u, seq: seq}
		users[u.ID] = e
		order = append(order, e)
	}
	orgs := make(map[string]*orgEntry, len(s.Orgs))
	orgOrder := make([]*orgEntry, 0, len(s.Orgs))
	for _, o := range s.Orgs {
		if o.Code == "" {
			return fmt.Errorf("emulator: load: organization %q has no code: %w", o.Name, ErrInvalid)
		}
		if _, dup := orgs[o.Code]; dup {
			return fmt.Errorf("emulator: load: duplicate organization code %q: %w", o.Code, ErrInvalid)
		}
		seq++
		e := &orgEntry{o: o, seq: seq}
		orgs[o.Code] = e
		orgOrder = append(orgOrder, e)
	}
	roleIDs := map[string]bool{}
	for _, r := range s.Roles {
		roleIDs[r.ID] = true
	}
	permIDs := map[string]bool{}
	for _, p := range s.Permissions {
		permIDs[p.ID] = true
	}
	for _, r := range s.Roles {
		for _, pid := range r.PermissionIDs {
			if !permIDs[pid] {
				return fmt.Errorf("emulator: load: role %q: unknown permission id %q: %w", r.Key, pid, ErrInvalid)
			}
		}
	}
	members := map[string]map[string]*memberEntry{}
	userOrgs := map[string]map[string]struct{}{}
	for _, m := range s.Memberships {
		if _, ok := orgs[m.OrgCode]; !ok {
			return fmt.Errorf("emulator: load: membership: %w", notFound("organization", m.OrgCode))
		}
		if _, ok := users[m.UserID]; !ok {
			return fmt.Errorf("emulator: load: membership: %w", notFound("user", m.UserID))
		}
		for _, id := range m.RoleIDs {
			if !roleIDs[id] {
				return fmt.Errorf("emulator: load: membership: %w", notFound("role", id))
			}
		}
		for _, id := range m.PermissionIDs {
			if !permIDs[id] {
				return fmt.Errorf("emulator: load: membership: %w", notFound("permission", id))
			}
		}
		if members[m.OrgCode] == nil {
			members[m.OrgCode] = map[string]*memberEntry{}
		}
		if _, dup := members[m.OrgCode][m.UserID]; dup {
			return fmt.Errorf("emulator: load: duplicate membership %s/%s: %w", m.OrgCode, m.UserID, ErrInvalid)
		}
		seq++
		members[m.OrgCode][m.UserID] = &memberEntry{m: m, seq: seq}
		if userOrgs[m.UserID] == nil {
			userOrgs[m.UserID] = map[string]struct{}{}
		}
		userOrgs[m.UserID][m.OrgCode] = struct{}{}
	}
	w.seq = seq
	w.business = s.Business
	w.keys = s.Keys
	w.apps = s.Apps
	w.apis = s.APIs
	w.users, w.userOrder, w.byEmail = users, order, byEmail
	w.orgs, w.orgOrder = orgs, orgOrder
	w.roles, w.permissions = s.Roles, s.Permissions
	w.members, w.userOrgs = members, userOrgs
	w.webhooks, w.invites = s.Webhooks, s.Invites
	w.claims = map[string]int{}
	return nil
}

// Snapshot returns a deep copy of the whole state, in a stable order.
func (w *World) Snapshot() State {
	w.mu.RLock()
	defer w.mu.RUnlock()
	s := State{
		Business:    w.business,
		Keys:        w.keys,
		Apps:        w.apps,
		APIs:        w.apis,
		Roles:       w.roles,
		Permissions: w.permissions,
		Webhooks:    w.webhooks,
		Invites:     w.invites,
	}
	s.Users = make([]User, 0, len(w.userOrder))
	for _, e := range w.userOrder {
		s.Users = append(s.Users, e.u)
	}
	s.Orgs = make([]Org, 0, len(w.orgOrder))
	var ms []*memberEntry
	for _, e := range w.orgOrder {
		s.Orgs = append(s.Orgs, e.o)
		for _, m := range w.members[e.o.Code] {
			ms = append(ms, m)
		}
	}
	slices.SortFunc(ms, func(a, b *memberEntry) int { return cmp.Compare(a.seq, b.seq) })
	s.Memberships = make([]Membership, 0, len(ms))
	for _, m := range ms {
		s.Memberships = append(s.Memberships, m.m)
	}
	return cloneState(s)
}

// Replace swaps the whole state for s after checking it is consistent. No
// events are emitted. Claims versions are reset.
func (w *World) Replace(s State) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.load(s)
}

// Subscribe registers fn to receive every event, after the change is made and
// the world's lock is released. fn must not block for long.
func (w *World) Subscribe(fn func(Event)) {
	w.subMu.Lock()
	defer w.subMu.Unlock()
	w.subs = append(w.subs, fn)
}

// Publish sends an event that did not come from a world mutation (for
// example user.authenticated) to subscribers. A missing ID or Time is filled
// in.
func (w *World) Publish(ev Event) {
	if ev.ID == "" {
		ev.ID = newEventID()
	}
	if ev.Time.IsZero() {
		ev.Time = w.now()
	}
	w.emit([]Event{ev})
}

func (w *World) emit(evs []Event) {
	if len(evs) == 0 {
		return
	}
	w.subMu.RLock()
	subs := slices.Clone(w.subs)
	w.subMu.RUnlock()
	for _, ev := range evs {
		for _, fn := range subs {
			fn(ev)
		}
	}
}

// event builds an event; callers hold the lock.
func (w *World) event(typ, source string, data map[string]any) Event {
	return Event{ID: newEventID(), Type: typ, Source: source, Data: data, Time: w.now()}
}

// Business returns the business description.
func (w *World) Business() Business {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.business
}

// SigningKeys returns the signing keys, newest last.
func (w *World) SigningKeys() []SigningKey {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return slices.Clone(w.keys)
}

// SetSigningKeys replaces the signing keys.
func (w *World) SetSigningKeys(keys []SigningKey) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.keys = slices.Clone(keys)
}

// Apps returns every application.
func (w *World) Apps() []App {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := make([]App, len(w.apps))
	for i, a := range w.apps {
		out[i] = cloneApp(a)
	}
	return out
}

// App returns the application with the given client id.
func (w *World) App(clientID string) (App, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, a := range w.apps {
		if a.ClientID == clientID {
			return cloneApp(a), true
		}
	}
	return App{}, false
}

// AppByLogoutURI returns the first application that allows uri as a logout
// redirect.
func (w *World) AppByLogoutURI(uri string) (App, bool) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	for _, a := range w.apps {
		if slices.Contains(a.LogoutURIs, uri) {
			return cloneApp(a), true
		}
	}
	return App{}, false
}

// APIs returns the registered custom APIs.
func (w *World) APIs() []API {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return slices.Clone(w.apis)
}

// ClaimsVersion returns a counter bumped each time refreshUserClaims is
// called for the user (and on every change to the user's memberships), so a
// token minter can tell cached claims are stale.
func (w *World) ClaimsVersion(userID string) int {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.claims[userID]
}

// RefreshClaims bumps the user's claims version, as refreshUserClaims does.
func (w *World) RefreshClaims(userID string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, ok := w.users[userID]; !ok {
		return notFound("user", userID)
	}
	w.claims[userID]++
	return nil
}

func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

func randomHex(nBytes int) string {
	b := make([]byte, nBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
	return hex.EncodeToString(b)
}

func newUserID() string  { return "kp_" + randomHex(16) }
func newOrgCode() string { return "org_" + randomHex(6)[:11] }
func newEventID() string { return "event_" + randomHex(16) }

func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func cloneApp(a App) App {
	a.RedirectURIs = slices.Clone(a.RedirectURIs)
	a.LogoutURIs = slices.Clone(a.LogoutURIs)
	a.Scopes = slices.Clone(a.Scopes)
	a.APIAudiences = slices.Clone(a.APIAudiences)
	return a
}

func cloneUser(u User) User {
	if u.LastSignedIn != nil {
		t := *u.LastSignedIn
		u.LastSignedIn = &t
	}
	return u
}

func cloneRole(r Role) Role {
	r.PermissionIDs = slices.Clone(r.PermissionIDs)
	return r
}

func cloneMembership(m Membership) Membership {
	m.RoleIDs = slices.Clone(m.RoleIDs)
	m.PermissionIDs = slices.Clone(m.PermissionIDs)
	if m.LastAccessedOn != nil {
		t := *m.LastAccessedOn
		m.LastAccessedOn = &t
	}
	return m
}

func cloneInvite(i Invite) Invite {
	i.RoleKeys = slices.Clone(i.RoleKeys)
	if i.AcceptedOn != nil {
		t := *i.AcceptedOn
		i.AcceptedOn = &t
	}
	return i
}

func cloneWebhook(h Webhook) Webhook {
	h.EventTypes = slices.Clone(h.EventTypes)
	return h
}

func cloneState(s State) State {
	out := State{Business: s.Business, Keys: slices.Clone(s.Keys)}
	for _, a := range s.Apps {
		out.Apps = append(out.Apps, cloneApp(a))
	}
	out.APIs = slices.Clone(s.APIs)
	out.Orgs = slices.Clone(s.Orgs)
	out.Users = make([]User, len(s.Users))
	for i, u := range s.Users {
		out.Users[i] = cloneUser(u)
	}
	for _, r := range s.Roles {
		out.Roles = append(out.Roles, cloneRole(r))
	}
	out.Permissions = slices.Clone(s.Permissions)
	out.Memberships = make([]Membership, len(s.Memberships))
	for i, m := range s.Memberships {
		out.Memberships[i] = cloneMembership(m)
	}
	for _, h := range s.Webhooks {
		out.Webhooks = append(out.Webhooks, cloneWebhook(h))
	}
	for _, i := range s.Invites {
		out.Invites = append(out.Invites, cloneInvite(i))
	}
	return out
}
