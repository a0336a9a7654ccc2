package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/clubhouse/clubhouse/internal/club"
)

// formOf is a form of name, value pairs.
func formOf(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v
}

// invite puts an invitation to the riverside member userID in the outbox,
// then lets change set where it got to (as the mail worker would).
func invite(e *env, userID string, change func(*club.OutboxItem)) int64 {
	e.t.Helper()
	m, err := e.dir.Member(e.t.Context(), riverside, userID)
	if err != nil {
		e.t.Fatalf("member %s: %v", userID, err)
	}
	e.dir.mu.Lock()
	e.dir.queue(club.Invitation{ClubCode: riverside, ClubName: riversideClub.Name, Email: m.Email, Name: m.Name(), InvitedBy: "Olivia Hart"})
	id := int64(len(e.dir.outbox))
	e.dir.mu.Unlock()
	if change != nil {
		e.dir.setInvitation(id, change)
	}
	return id
}

func givenUp(it *club.OutboxItem) {
	it.Status, it.Attempts, it.LastError = club.InvitationFailed, 6, "the mail server refused the address"
}

func TestMembersPagePointsAtFailedInvitations(t *testing.T) {
	e := newEnv(t)
	invite(e, "kp_mia", givenUp)
	invite(e, "kp_adam", func(it *club.OutboxItem) { it.Status, it.SentAt = club.InvitationSent, t0 })

	owner := e.browser()
	owner.signIn(olivia)
	d := doc(t, owner.get("/members"))
	notice := testid(d, "failed-invitations")
	if !strings.Contains(notice.Text(), "1 member's invitation could not be sent") || notice.Find(`a[href="/invitations"]`).Length() != 1 {
		t.Errorf("notice = %q, want one failed invitation and a link to the invitations page", notice.Text())
	}
	if testid(doc(t, owner.get("/members", HXRequest, "true")), "failed-invitations").Length() != 0 {
		t.Error("the htmx table fragment repeats the notice")
	}

	// A plain member cannot act on it, so is not told.
	member := e.browser()
	member.signIn(mia)
	if testid(doc(t, member.get("/club")), "failed-invitations").Length() != 0 {
		t.Error("a plain member sees the failed-invitations notice")
	}

	// Sent again: nothing is left to look at.
	owner.post("/members/kp_mia/invite", nil)
	if n := testid(doc(t, owner.get("/members")), "failed-invitations").Length(); n != 0 {
		t.Error("the notice stays after the invitation was sent again")
	}
}

func TestResendInvitation(t *testing.T) {
	e := newEnv(t)
	first := invite(e, "kp_mia", givenUp)
	b := e.browser()
	b.signIn(adam)
	writes := e.dir.writes.Load()

	res := b.post("/members/kp_mia/invite", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/members" {
		t.Fatalf("resend: %d to %q, want 303 to /members", res.StatusCode, res.Header.Get("Location"))
	}
	if got := b.flashTexts("/members"); len(got) != 1 || got[0] != "A new invitation to mia@example.org is on its way." {
		t.Errorf("flash = %q", got)
	}
	items := e.dir.invitations()
	if len(items) != 2 || items[1].ID == first || items[1].Status != club.InvitationQueued ||
		items[1].Invitation.Email != "mia@example.org" || items[1].Invitation.InvitedBy != "Adam Brooks" ||
		items[1].Invitation.ClubCode != riverside || items[1].Invitation.ClubName != riversideClub.Name {
		t.Errorf("outbox = %+v, want a new queued invitation to mia from Adam", items)
	}
	// One write: QueueInvitation, which queues the new invitation's job in
	// its own transaction. Nothing else needs waking.
	if got := e.dir.writes.Load() - writes; got != 1 {
		t.Errorf("%d directory writes, want 1", got)
	}
	if ev := e.dir.audit[len(e.dir.audit)-1]; ev.Action != club.ActionInvitationResent || ev.ActorID != "kp_adam" || ev.TargetID != "kp_mia" || ev.ClubCode != riverside {
		t.Errorf("audit = %+v, want invitation.resent by adam for mia in riverside", ev)
	}

	// A second click while that one is queued sends nothing more, and says why.
	res = b.post("/members/kp_mia/invite", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("second resend: status %d, want 303", res.StatusCode)
	}
	if got := b.flashTexts("/members"); len(got) != 1 || !strings.Contains(got[0], "already on its way") {
		t.Errorf("flash = %q, want it to say one is already on its way", got)
	}
	if n := len(e.dir.invitations()); n != 2 {
		t.Errorf("outbox has %d invitations after a double click, want 2", n)
	}

	// Just sent: too soon for another; ten minutes later, fine.
	e.dir.setInvitation(2, func(it *club.OutboxItem) { it.Status, it.SentAt = club.InvitationSent, e.clock() })
	e.advance(4 * time.Minute)
	b.post("/members/kp_mia/invite", formOf("return", "invitations"))
	if got := b.flashTexts("/invitations"); len(got) != 1 || !strings.Contains(got[0], "4 minutes ago") {
		t.Errorf("flash = %q, want it to say one went 4 minutes ago", got)
	}
	e.advance(club.ResendCooldown)
	res = b.post("/members/kp_mia/invite", formOf("return", "invitations"))
	if res.Header.Get("Location") != "/invitations" || len(e.dir.invitations()) != 3 {
		t.Errorf("after the cooldown: redirect %q, %d invitations; want /invitations and 3", res.Header.Get("Location"), len(e.dir.invitations()))
	}
}

func TestResendInvitationRefusals(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(adam)
	writes := e.dir.writes.Load()
	for _, tc := range []struct {
		name, target string
		form         []string
		wantStatus   int
		wantLocation string
	}{
		{"member of another club", "/members/kp_tom/invite", nil, http.StatusNotFound, ""},
		{"nobody", "/members/kp_nobody/invite", nil, http.StatusNotFound, ""},
		{"overlong id", "/members/" + strings.Repeat("x", 300) + "/invite", nil, http.StatusNotFound, ""},
		// return names a page, never a URL: no open redirect.
		{"foreign return", "/members/kp_mia/invite", []string{"return", "https://evil.example/"}, http.StatusSeeOther, "/members"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := b.post(tc.target, formOf(tc.form...))
			if res.StatusCode != tc.wantStatus || res.Header.Get("Location") != tc.wantLocation {
				t.Errorf("status %d to %q, want %d to %q", res.StatusCode, res.Header.Get("Location"), tc.wantStatus, tc.wantLocation)
			}
		})
	}
	if got := e.dir.writes.Load() - writes; got != 1 { // the last case resends to mia
		t.Errorf("%d directory writes, want only the one resend to mia", got)
	}

	// Without members:write there is no resend and no invitations page.
	m := e.browser()
	m.signIn(mia)
	for _, res := range []*http.Response{m.post("/members/kp_adam/invite", nil), m.get("/invitations")} {
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("plain member: status %d, want 403", res.StatusCode)
		}
	}
}

func TestInvitationsPage(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.signIn(olivia)
	d := doc(t, b.get("/invitations"))
	if !strings.Contains(testid(d, "empty-state").Text(), "No invitations yet") {
		t.Errorf("empty page = %q, want the empty state", d.Find("main").Text())
	}

	invite(e, "kp_mia", givenUp) // superseded by the next
	invite(e, "kp_mia", func(it *club.OutboxItem) {
		it.Attempts, it.LastError, it.NextAttemptAt = 2, "the mail server did not answer", t0.Add(10*time.Minute)
	})
	invite(e, "kp_adam", func(it *club.OutboxItem) { it.Status, it.SentAt = club.InvitationSent, t0.Add(-time.Hour) })
	e.dir.add(club.Member{ClubCode: riverside, UserID: "kp_lea", Email: "lea@example.org", FirstName: "Lea", LastName: "Gone", Roles: []string{club.RoleMember}})
	invite(e, "kp_lea", givenUp)
	if err := e.dir.DeleteMember(t.Context(), 0, riverside, "kp_lea", club.AuditEvent{Action: club.ActionMemberRemoved}); err != nil {
		t.Fatal(err)
	}
	e.dir.add(club.Member{ClubCode: hilltop, UserID: "kp_zed", Email: "zed@example.org", Roles: []string{club.RoleMember}})
	e.dir.mu.Lock()
	e.dir.queue(club.Invitation{ClubCode: hilltop, Email: "zed@example.org"}) // another club's
	e.dir.mu.Unlock()

	d = doc(t, b.get("/invitations"))
	type row struct{ email, status, text string }
	var got []row
	rows := testid(d, "invitation-row")
	rows.Each(func(_ int, s *goquery.Selection) {
		got = append(got, row{s.AttrOr("data-email", ""), s.AttrOr("data-status", ""), strings.Join(strings.Fields(s.Text()), " ")})
	})
	want := []struct {
		email, status string
		says          []string
		resend        bool
	}{
		{"lea@example.org", "failed", []string{"Not sent", "Gave up after 6 attempts.", "Last error: the mail server refused the address", "No longer a member"}, false},
		{"adam@example.org", "sent", []string{"Sent", "by Olivia Hart"}, true},
		{"mia@example.org", "retrying", []string{"Retrying", "2 attempts failed. Next try in 10 minutes", "Last error: the mail server did not answer"}, false},
		{"mia@example.org", "failed", []string{"Not sent", "Sent again since"}, false},
	}
	if len(got) != len(want) {
		t.Fatalf("rows = %+v, want %d (the club's, newest first)", got, len(want))
	}
	for i, w := range want {
		if got[i].email != w.email || got[i].status != w.status {
			t.Errorf("row %d = %s %s, want %s %s", i, got[i].email, got[i].status, w.email, w.status)
		}
		for _, s := range w.says {
			if !strings.Contains(got[i].text, s) {
				t.Errorf("row %d (%s) says %q, want %q in it", i, w.email, got[i].text, s)
			}
		}
		form := rows.Eq(i).Find(`form[action$="/invite"]`)
		if (form.Length() == 1) != w.resend {
			t.Errorf("row %d (%s): resend offered = %v, want %v", i, w.email, form.Length() == 1, w.resend)
		}
		if w.resend && (form.AttrOr("action", "") != "/members/kp_adam/invite" || form.Find(`input[name="return"]`).AttrOr("value", "") != "invitations") {
			t.Errorf("row %d resend form posts to %q", i, form.AttrOr("action", ""))
		}
	}
	if d.Find(`nav.sidenav a[href="/invitations"][aria-current="page"]`).Length() != 1 {
		t.Error("Invitations is not the current item of the left nav")
	}
}
