package jobs

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

// TestWebhookArgsOfAnEarlierVersion decodes webhook jobs as a version that
// still called the event club.KindeEvent, with Kinde's own type strings,
// queued them: they must still decode into an event that applies.
func TestWebhookArgsOfAnEarlierVersion(t *testing.T) {
	tests := []struct {
		name     string
		args     string
		wantKind string
		wantID   string // the person's id or the club's code
	}{
		{"user.updated",
			`{"delivery_id":"msg_1","subject":"user:kp_1","event":{"ID":"event_1","Type":"user.updated","At":"2025-01-01T00:00:00Z",` +
				`"Person":{"Person":{"ID":"kp_1","Email":"pat@example.org","FirstName":"Pat","LastName":""},"Deleted":false,"Clubs":[{"Code":"org_a","Roles":["member"]}]}}}`,
			club.EventPersonChanged, "kp_1"},
		{"user.created",
			`{"delivery_id":"msg_2","subject":"user:kp_2","event":{"ID":"event_2","Type":"user.created","At":"2025-01-01T00:00:00Z",` +
				`"Person":{"Person":{"ID":"kp_2","Email":"","FirstName":"","LastName":""},"Deleted":false,"Clubs":[]}}}`,
			club.EventPersonChanged, "kp_2"},
		{"user.deleted",
			`{"delivery_id":"msg_3","subject":"user:kp_3","event":{"ID":"event_3","Type":"user.deleted","At":"2025-01-01T00:00:00Z",` +
				`"Person":{"Person":{"ID":"kp_3","Email":"","FirstName":"","LastName":""},"Deleted":true,"Clubs":null}}}`,
			club.EventPersonDeleted, "kp_3"},
		{"organization.updated",
			`{"delivery_id":"msg_4","subject":"org:org_a","event":{"ID":"event_4","Type":"organization.updated","At":"2025-01-01T00:00:00Z",` +
				`"Club":{"Club":{"Code":"org_a","Name":"Riverside"},"Deleted":false}}}`,
			club.EventClubChanged, "org_a"},
		{"organization.deleted",
			`{"delivery_id":"msg_5","subject":"org:org_a","event":{"ID":"event_5","Type":"organization.deleted","At":"2025-01-01T00:00:00Z",` +
				`"Club":{"Club":{"Code":"org_a","Name":""},"Deleted":true}}}`,
			club.EventClubDeleted, "org_a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var args webhookArgs
			if err := json.Unmarshal([]byte(tt.args), &args); err != nil {
				t.Fatalf("decode: %v", err)
			}
			ev := args.Event
			if got, want := ev.Kind(), tt.wantKind; got != want {
				t.Errorf("Kind() = %q, want %q", got, want)
			}
			var gotID string
			switch {
			case ev.Person != nil:
				gotID = ev.Person.Person.ID
			case ev.Club != nil:
				gotID = ev.Club.Club.Code
			}
			if gotID != tt.wantID {
				t.Errorf("names %q, want %q", gotID, tt.wantID)
			}
			if got, want := eventSubject(ev), args.Subject; got != want {
				t.Errorf("eventSubject = %q, want %q as queued", got, want)
			}
		})
	}
}

// TestWebhookArgsKeepTheirFormat checks that the job's JSON keeps the field
// names earlier versions wrote and read, so that jobs queued by one version
// are handled by the next, and back.
func TestWebhookArgsKeepTheirFormat(t *testing.T) {
	args := webhookArgs{DeliveryID: "msg_1", Subject: "user:kp_1", Event: club.IdentityEvent{ID: "event_1", Type: club.EventPersonChanged,
		Person: &club.PersonChange{Person: club.Person{ID: "kp_1"}, Clubs: []club.ClubRoles{{Code: "org_a", Roles: []string{"member"}}}}}}
	b, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Event map[string]json.RawMessage `json:"event"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"ID", "Type", "At", "Person"} {
		if _, ok := raw.Event[key]; !ok {
			t.Errorf("the event's JSON has no %q: %s", key, b)
		}
	}
	for _, key := range []string{`"delivery_id"`, `"subject"`, `"Clubs":[{"Code":"org_a","Roles":["member"]}]`, `"Deleted":false`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("the job's JSON has no %s: %s", key, b)
		}
	}
	keys := make([]string, 0, len(raw.Event))
	for k := range raw.Event {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"At", "ID", "Person", "Type"}; !slices.Equal(keys, want) {
		t.Errorf("the event's JSON keys = %v, want %v", keys, want)
	}
}
