package kinde

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/sync/singleflight"

	"github.com/clubhouse/clubhouse/internal/club"
)

// Kinde's webhook event types the portal applies to its directory. Kinde
// has no "user added to organization" event: user.updated fires when a
// person joins a club or their roles change, and lists every club they are
// in.
const (
	EventUserCreated         = "user.created"
	EventUserUpdated         = "user.updated"
	EventUserDeleted         = "user.deleted"
	EventOrganizationCreated = "organization.created"
	EventOrganizationUpdated = "organization.updated"
	EventOrganizationDeleted = "organization.deleted"
)

// eventKinds maps each of Kinde's event types the portal applies onto the
// domain's kind of event.
var eventKinds = map[string]string{
	EventUserCreated:         club.EventPersonChanged,
	EventUserUpdated:         club.EventPersonChanged,
	EventUserDeleted:         club.EventPersonDeleted,
	EventOrganizationCreated: club.EventClubChanged,
	EventOrganizationUpdated: club.EventClubChanged,
	EventOrganizationDeleted: club.EventClubDeleted,
}

// WebhookEventTypes lists Kinde's event types the portal applies, sorted.
// It is what the portal subscribes its webhook to.
func WebhookEventTypes() []string {
	return slices.Sorted(maps.Keys(eventKinds))
}

// EventKind returns the domain's kind of event (club.EventPersonChanged,
// ...) for Kinde's event type typ, and false when the portal does not
// apply typ.
func EventKind(typ string) (string, bool) {
	kind, ok := eventKinds[typ]
	return kind, ok
}

// MaxWebhookBytes bounds a webhook body. Kinde's user events are a few
// kilobytes even for a person in many organizations.
const MaxWebhookBytes = 256 << 10

// ErrWebhookRejected is wrapped by every error Verify returns for a webhook
// that must be refused (bad signature, unknown key, malformed token or
// payload, unknown event type). Other errors mean Kinde's key set could not
// be read: the delivery may be fine, so the receiver answers 5xx and Kinde
// retries.
var ErrWebhookRejected = errors.New("kinde: webhook rejected")

// webhookKeyRefreshEvery bounds how often an unknown kid makes the verifier
// fetch Kinde's JWKS again, so that forged tokens cannot make the portal
// hammer Kinde. A genuine delivery signed with a key Kinde published within
// this window is refused once and accepted on Kinde's retry five seconds
// later.
const webhookKeyRefreshEvery = 5 * time.Second

// WebhookVerifier checks the JWTs Kinde posts to the portal's webhook
// endpoint and turns them into domain events. Kinde signs them (RS256) with
// the business's keys, published at <issuer>/.well-known/jwks; the payload
// has no iss, aud or exp, so the signature is what proves it came from this
// Kinde business. The key set is cached and fetched again when a token names
// a kid the cache lacks (Kinde rotated its keys), at most once every five
// seconds. It is safe for concurrent use.
//
// go-oidc's RemoteKeySet (which sign-in uses) is not used here on purpose:
// it fetches the key set again for every token no cached key verifies,
// with no bound, so a stream of forged webhooks would become a stream of
// JWKS requests to Kinde (even a known kid with a bad signature fetches);
// and telling a bad signature (to refuse) from an unreachable key set (to
// answer 5xx, so Kinde retries) would mean matching its error text.
type WebhookVerifier struct {
	jwksURL string
	client  *http.Client
	now     func() time.Time
	every   time.Duration

	fetch     singleflight.Group
	mu        sync.RWMutex
	keys      map[string]*rsa.PublicKey // by kid
	fetchedAt time.Time
}

// NewWebhookVerifier returns a verifier for webhooks from the Kinde business
// at issuer (e.g. https://acme.kinde.com, no trailing slash). client may be
// nil (a client with a 10 second timeout).
func NewWebhookVerifier(issuer string, client *http.Client) *WebhookVerifier {
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	return &WebhookVerifier{
		jwksURL: strings.TrimRight(issuer, "/") + "/.well-known/jwks",
		client:  client,
		now:     time.Now,
		every:   webhookKeyRefreshEvery,
	}
}

// Verify checks token's signature against Kinde's key set and decodes the
// event. It refuses (errors.Is(err, ErrWebhookRejected)) anything but a
// compact RS256 JWS signed by a current Kinde key whose payload is one of
// the event types the portal applies (WebhookEventTypes) with a
// timestamp and the ids the type needs.
func (v *WebhookVerifier) Verify(ctx context.Context, token []byte) (club.IdentityEvent, error) {
	if len(token) == 0 || len(token) > MaxWebhookBytes {
		return club.IdentityEvent{}, rejected("body size %d out of bounds", len(token))
	}
	// ParseSignedCompact refuses anything but three dot-separated parts
	// and so yields exactly one signature.
	jws, err := jose.ParseSignedCompact(strings.TrimSpace(string(token)), []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		return club.IdentityEvent{}, rejected("malformed token: %v", err)
	}
	kid := jws.Signatures[0].Header.KeyID
	key, err := v.key(ctx, kid)
	if err != nil {
		return club.IdentityEvent{}, err
	}
	payload, err := jws.Verify(key)
	if err != nil {
		return club.IdentityEvent{}, rejected("bad signature")
	}
	return decodeWebhook(payload)
}

// key returns the public key named kid, fetching the key set when it is
// not cached (and was not fetched in the last few seconds).
func (v *WebhookVerifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if kid == "" {
		return nil, rejected("token has no kid")
	}
	v.mu.RLock()
	k, ok := v.keys[kid]
	recent := !v.fetchedAt.IsZero() && v.now().Sub(v.fetchedAt) < v.every
	v.mu.RUnlock()
	if ok {
		return k, nil
	}
	if recent {
		return nil, rejected("unknown kid")
	}
	_, err, _ := v.fetch.Do("jwks", func() (any, error) {
		v.mu.RLock()
		fresh := !v.fetchedAt.IsZero() && v.now().Sub(v.fetchedAt) < v.every
		v.mu.RUnlock()
		if fresh { // another caller fetched while we waited
			return nil, nil
		}
		return nil, v.refresh(context.WithoutCancel(ctx))
	})
	if err != nil {
		return nil, err
	}
	v.mu.RLock()
	k, ok = v.keys[kid]
	v.mu.RUnlock()
	if !ok {
		return nil, rejected("unknown kid")
	}
	return k, nil
}

// refresh reads Kinde's key set and keeps its RSA signing keys.
func (v *WebhookVerifier) refresh(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURL, nil)
	if err != nil {
		return fmt.Errorf("kinde: webhook keys: %w", err)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return club.Unavailable(fmt.Errorf("kinde: webhook keys: %w", err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return club.Unavailable(fmt.Errorf("kinde: webhook keys: status %d", resp.StatusCode))
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&set); err != nil {
		return club.Unavailable(fmt.Errorf("kinde: webhook keys: %w", err))
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range set.Keys {
		pub, ok := k.Key.(*rsa.PublicKey)
		if !ok || k.KeyID == "" || (k.Use != "" && k.Use != "sig") || (k.Algorithm != "" && k.Algorithm != string(jose.RS256)) {
			continue
		}
		keys[k.KeyID] = pub
	}
	v.mu.Lock()
	v.keys, v.fetchedAt = keys, v.now()
	v.mu.Unlock()
	return nil
}

// webhookPayload is the JSON of a Kinde webhook JWT.
type webhookPayload struct {
	Type      string `json:"type"`
	EventID   string `json:"event_id"`
	Source    string `json:"source"`
	Timestamp string `json:"timestamp"`
	Data      struct {
		User *struct {
			ID            string `json:"id"`
			Email         string `json:"email"`
			FirstName     string `json:"first_name"`
			LastName      string `json:"last_name"`
			Organizations []struct {
				Code  string `json:"code"`
				Roles []struct {
					ID  string `json:"id"`
					Key string `json:"key"`
				} `json:"roles"`
			} `json:"organizations"`
		} `json:"user"`
		Organization *struct {
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"organization"`
	} `json:"data"`
}

// decodeWebhook turns a verified payload into an event.
func decodeWebhook(payload []byte) (club.IdentityEvent, error) {
	var p webhookPayload
	if err := json.Unmarshal(payload, &p); err != nil {
		return club.IdentityEvent{}, rejected("payload is not JSON: %v", err)
	}
	at, err := time.Parse(time.RFC3339Nano, p.Timestamp)
	if err != nil {
		return club.IdentityEvent{}, rejected("bad timestamp %q", p.Timestamp)
	}
	kind, ok := EventKind(p.Type)
	if !ok {
		return club.IdentityEvent{}, rejected("unknown event type %q", p.Type)
	}
	ev := club.IdentityEvent{ID: p.EventID, Type: kind, At: at.UTC()}
	switch kind {
	case club.EventPersonChanged, club.EventPersonDeleted:
		u := p.Data.User
		if u == nil || u.ID == "" {
			return club.IdentityEvent{}, rejected("%s without data.user.id", p.Type)
		}
		pc := &club.PersonChange{Person: club.Person{ID: u.ID, Email: strings.ToLower(strings.TrimSpace(u.Email)),
			FirstName: u.FirstName, LastName: u.LastName}, Deleted: kind == club.EventPersonDeleted}
		if !pc.Deleted {
			pc.Clubs = []club.ClubRoles{}
			for _, o := range u.Organizations {
				if o.Code == "" {
					continue
				}
				cr := club.ClubRoles{Code: o.Code, Roles: []string{}}
				for _, r := range o.Roles {
					if r.Key != "" {
						cr.Roles = append(cr.Roles, r.Key)
					}
				}
				pc.Clubs = append(pc.Clubs, cr)
			}
		}
		ev.Person = pc
	case club.EventClubChanged, club.EventClubDeleted:
		o := p.Data.Organization
		if o == nil || o.Code == "" {
			return club.IdentityEvent{}, rejected("%s without data.organization.code", p.Type)
		}
		ev.Club = &club.ClubChange{Club: club.Club{Code: o.Code, Name: o.Name}, Deleted: kind == club.EventClubDeleted}
	}
	return ev, nil
}

func rejected(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrWebhookRejected}, args...)...)
}
