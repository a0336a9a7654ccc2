package jobs

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator"
	"github.com/clubhouse/clubhouse/internal/kinde/emulator/emulatortest"
	"github.com/clubhouse/clubhouse/internal/mail"
	"github.com/clubhouse/clubhouse/internal/store"
	"github.com/clubhouse/clubhouse/static"
	"github.com/clubhouse/clubhouse/web"
)

// instance is one portal process: its own store pool, job client and HTTP
// server, sharing the PostgreSQL schema with the others.
type instance struct {
	name string
	url  string
	db   *store.DB
	jobs *Jobs
	// imports records which import ids this instance ran.
	imports chan int64
	// done receives the instance's job completions.
	done <-chan *river.Event
}

// cluster is several instances behind a round-robin load balancer with
// nothing sticky, in front of one Kinde emulator.
type cluster struct {
	lb        string
	emu       *emulator.Emulator
	instances []*instance
	// webhooks records each webhook the balancer forwarded: id and body.
	mu       sync.Mutex
	webhooks []recordedWebhook
	applied  atomic.Int64 // webhook events applied, over all instances
	// appliedIDs receives the event id of each webhook applied.
	appliedIDs chan string
	// invitations receives the address of each invitation email sent, by
	// any instance.
	invitations chan string
}

type recordedWebhook struct {
	id   string
	body []byte
}

func startCluster(t *testing.T, n int) *cluster {
	t.Helper()
	ctx := t.Context()
	d := postgresDatabase(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lbURL := "http://" + ln.Addr().String()
	c := &cluster{lb: lbURL, appliedIDs: make(chan string, 100), invitations: make(chan string, 100)}
	c.emu = emulatortest.Start(t, emulatortest.WithSeed(func(s *emulator.Seed) {
		for i := range s.Apps {
			if s.Apps[i].Name == emulator.SeedPortalApp {
				s.Apps[i].RedirectURIs = append(s.Apps[i].RedirectURIs, lbURL+"/auth/callback")
			}
		}
	}))
	appID, appSecret := emulatortest.App(t, c.emu, emulator.SeedPortalApp)
	m2mID, m2mSecret := emulatortest.M2M(t, c.emu)
	assets, err := static.New()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		in := &instance{name: fmt.Sprintf("instance-%d", i), imports: make(chan int64, 100)}
		in.db = openStore(t, d)
		auth, err := kinde.NewAuth(ctx, kinde.AuthConfig{Issuer: c.emu.Issuer(), ClientID: appID, ClientSecret: appSecret,
			RedirectURL: lbURL + "/auth/callback", Audience: emulator.SeedAPIAudience})
		if err != nil {
			t.Fatal(err)
		}
		admin, err := kinde.NewAdmin(kinde.AdminConfig{Issuer: c.emu.Issuer(), ClientID: m2mID, ClientSecret: m2mSecret})
		if err != nil {
			t.Fatal(err)
		}
		db := in.db
		svc := club.NewService(db, admin, nil, nil)
		in.jobs = newJobs(t, d, db, Handlers{
			Webhook: func(ctx context.Context, ev club.IdentityEvent) error {
				err := svc.HandleIdentityEvent(ctx, ev)
				if err == nil {
					c.applied.Add(1)
					c.appliedIDs <- ev.ID
				}
				return err
			},
			Import: func(_ context.Context, id int64) error { in.imports <- id; return nil },
			Invitation: mail.NewWorker(db, sendFunc(func(_ context.Context, m mail.Message) error {
				c.invitations <- m.To
				return nil
			}), renderPlain, mail.WorkerConfig{BaseURL: lbURL}).Deliver,
		}, func(cfg *Config) { cfg.ID = in.name })
		db.SetInvitationQueue(in.jobs)
		in.done = completions(t, in.jobs)
		start(t, in.jobs)
		reg := prometheus.NewRegistry()
		h, err := web.NewServer(web.Deps{
			PublicURL: lbURL, KindeIssuer: c.emu.Issuer(),
			Service: club.NewService(db, admin, nil, nil), Directory: db, AuditLog: db, Invitations: db,
			Auth: auth, Roles: admin, Freshness: db, Sessions: db, Assets: assets,
			Registerer: reg, Ready: db.Ping,
			Webhooks: &web.WebhookReceiver{Inbox: in.jobs, Verifier: kinde.NewWebhookVerifier(c.emu.Issuer(), nil)},
			Imports:  &web.BulkImport{Importer: club.NewImporter(db, db, admin, nil, nil), Queue: in.jobs},
		})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		in.url = srv.URL
		c.instances = append(c.instances, in)
	}

	// The balancer: round robin, no affinity of any kind.
	var next atomic.Int64
	lb := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/webhooks/kinde" {
			body, _ := io.ReadAll(r.Body)
			c.mu.Lock()
			c.webhooks = append(c.webhooks, recordedWebhook{id: r.Header.Get("webhook-id"), body: body})
			c.mu.Unlock()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		in := c.instances[int(next.Add(1))%len(c.instances)]
		target, _ := url.Parse(in.url)
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	})}
	go func() { _ = lb.Serve(ln) }()
	t.Cleanup(func() { _ = lb.Close() })
	return c
}

// TestSeveralInstances runs two portal instances against one PostgreSQL
// schema behind a balancer that sends each request to the next instance.
func TestSeveralInstances(t *testing.T) {
	c := startCluster(t, 2)
	ctx := t.Context()
	a, b := c.instances[0], c.instances[1]

	t.Run("a session started on one works on the other", func(t *testing.T) {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		// Sign-in crosses instances: /auth/login and /auth/callback go to
		// different ones (state, nonce and PKCE live in the shared store).
		res := signIn(t, client, c.lb, "olivia@example.org")
		if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/members" {
			t.Fatalf("after sign-in: %d at %s, want the members page", res.StatusCode, res.Request.URL)
		}
		// The session cookie the balancer's host got works on each
		// instance directly (cookies are per host, not per port).
		lbURL, _ := url.Parse(c.lb)
		for _, in := range c.instances {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, in.url+"/members", nil)
			for _, ck := range jar.Cookies(lbURL) {
				req.AddCookie(ck)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := goquery.NewDocumentFromReader(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK || d.Find(`[data-testid="member-row"]`).Length() == 0 {
				t.Errorf("%s: GET /members = %d with %d member rows, want 200 and the club's members",
					in.name, res.StatusCode, d.Find(`[data-testid="member-row"]`).Length())
			}
		}
	})

	t.Run("an import started on one shows its progress on the other", func(t *testing.T) {
		jar, err := cookiejar.New(nil)
		if err != nil {
			t.Fatal(err)
		}
		client := &http.Client{Jar: jar, Timeout: 10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		follow := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		signIn(t, follow, c.lb, "olivia@example.org")
		lbURL, _ := url.Parse(c.lb)
		withCookies := func(req *http.Request) *http.Request {
			for _, ck := range jar.Cookies(lbURL) {
				req.AddCookie(ck)
			}
			return req
		}
		csv := "email,first_name,last_name,roles\nimport-one@example.org,Ina,One,member\nimport-two@example.org,Ivo,Two,coach\n"
		form := url.Values{"file_name": {"members.csv"}, "csv": {csv}}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, a.url+"/members/import/start", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := client.Do(withCookies(req))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc := res.Header.Get("Location")
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/imports/") {
			t.Fatalf("start on %s = %d to %q, want 303 to the progress page", a.name, res.StatusCode, loc)
		}
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, b.url+loc, nil)
		res, err = http.DefaultClient.Do(withCookies(req))
		if err != nil {
			t.Fatal(err)
		}
		d, _ := goquery.NewDocumentFromReader(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || d.Find(`[data-testid="import-progress"]`).Length() != 1 {
			t.Fatalf("progress on %s = %d, want 200 with the progress block", b.name, res.StatusCode)
		}
		if got, want := d.Find(`[data-testid="import-bar"]`).AttrOr("max", ""), "2"; got != want {
			t.Errorf("progress on %s counts %s rows to run, want %s", b.name, got, want)
		}
		// The import job runs once, on one of the instances.
		select {
		case <-a.imports:
		case <-b.imports:
		case <-time.After(10 * time.Second):
			t.Fatal("the import job never ran")
		}
		select {
		case id := <-a.imports:
			t.Errorf("import job %d ran a second time (on %s)", id, a.name)
		case id := <-b.imports:
			t.Errorf("import job %d ran a second time (on %s)", id, b.name)
		default:
		}
	})

	t.Run("a webhook delivered to both is applied once", func(t *testing.T) {
		// The club is known (the members page above filled it).
		if _, err := c.emu.World().CreateWebhook(emulator.Webhook{Name: "portal", Endpoint: c.lb + "/webhooks/kinde",
			EventTypes: kinde.WebhookEventTypes()}); err != nil {
			t.Fatal(err)
		}
		delivered := make(chan emulator.Delivery, 4)
		defer c.emu.OnDelivery(func(d emulator.Delivery) { delivered <- d })()
		before := c.applied.Load()
		u, err := c.emu.World().CreateUser(emulator.User{Email: "twice@example.org", FirstName: "Twice"}, emulator.SeedRiversideOrgCode, "api")
		if err != nil {
			t.Fatal(err)
		}
		if d := receive(t, delivered, "the delivery"); !d.Succeeded() {
			t.Fatalf("delivery: %+v", d)
		}
		c.mu.Lock()
		wh := c.webhooks[len(c.webhooks)-1]
		c.mu.Unlock()
		// The same delivery reaches both instances again, at once (Kinde's
		// retry after a lost answer, the balancer retrying).
		var wg sync.WaitGroup
		answers := make(chan string, 2)
		for _, in := range c.instances {
			wg.Go(func() {
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, in.url+"/webhooks/kinde", bytes.NewReader(wh.body))
				req.Header.Set("Content-Type", "application/jwt")
				req.Header.Set("webhook-id", wh.id)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				answers <- fmt.Sprintf("%d %s", res.StatusCode, bytes.TrimSpace(body))
			})
		}
		wg.Wait()
		close(answers)
		for ans := range answers {
			if ans != "200 duplicate" {
				t.Errorf("replayed delivery answered %q, want 200 duplicate", ans)
			}
		}
		// Wait for the one job to apply it.
		receive(t, c.appliedIDs, "the webhook applied")
		if m, err := a.db.Member(ctx, emulator.SeedRiversideOrgCode, u.ID); err != nil || m.Email != "twice@example.org" {
			t.Fatalf("member after the webhook: %+v, %v", m, err)
		}
		var jobs int
		if err := a.db.JobsDB().QueryRowContext(ctx, `SELECT COUNT(*) FROM river_job WHERE kind = $1`, KindWebhook).Scan(&jobs); err != nil {
			t.Fatal(err)
		}
		if jobs != 1 {
			t.Errorf("webhook jobs = %d, want 1", jobs)
		}
		if got := c.applied.Load() - before; got != 1 {
			t.Errorf("applied %d times, want once", got)
		}
		// The other instance sees the member too (one database).
		if _, err := b.db.Member(ctx, emulator.SeedRiversideOrgCode, u.ID); err != nil {
			t.Errorf("instance b: %v", err)
		}
	})

	t.Run("each invitation goes out once", func(t *testing.T) {
		// Written on either instance, each invitation's job runs on one.
		const n = 20
		ids := map[int64]bool{}
		for i := range n {
			ids[invite(t, c.instances[i%2].db, 100+i)] = true
		}
		sent := map[string]int{}
		for range n {
			sent[receive(t, c.invitations, "an invitation email")]++
		}
		for i := range n {
			if email := guest(100 + i).Email; sent[email] != 1 {
				t.Errorf("%s got %d invitations, want 1", email, sent[email])
			}
		}
		// Once every job has finished, each invitation is recorded sent by
		// its first attempt, and no other email went out.
		for left := n; left > 0; {
			var ev *river.Event
			select {
			case ev = <-a.done:
			case ev = <-b.done:
			case <-time.After(20 * time.Second):
				t.Fatalf("timed out waiting for %d invitation jobs", left)
			}
			if ev.Job != nil && ev.Job.Kind == KindInvitation {
				left--
			}
		}
		items, err := a.db.Recent(ctx, "org_a", n)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if !ids[it.ID] || it.Status != club.InvitationSent || it.Attempts != 1 {
				t.Errorf("invitation %d = %s after %d attempts, want sent by the first", it.ID, it.Status, it.Attempts)
			}
		}
		none(t, c.invitations, "another invitation email")
	})

	t.Run("each job runs once", func(t *testing.T) {
		const n = 40
		for i := range n {
			in := c.instances[i%2]
			if err := in.jobs.EnqueueImport(ctx, int64(1000+i)); err != nil {
				t.Fatal(err)
			}
		}
		runs := map[int64]int{}
		by := map[string]int{}
		merged := make(chan [2]int64, 2*n)
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for k, in := range c.instances {
			wg.Go(func() {
				for {
					select {
					case id := <-in.imports:
						merged <- [2]int64{int64(k), id}
					case <-stop:
						return
					}
				}
			})
		}
		for range n {
			got := receive(t, merged, "an import run")
			runs[got[1]]++
			by[c.instances[got[0]].name]++
		}
		close(stop)
		wg.Wait()
		for i := range n {
			if runs[int64(1000+i)] != 1 {
				t.Errorf("import %d ran %d times, want once", 1000+i, runs[int64(1000+i)])
			}
		}
		// No extra run turned up meanwhile.
		select {
		case got := <-merged:
			t.Errorf("import %d ran again", got[1])
		default:
		}
		t.Logf("runs by instance: %v", by)
	})
}

// signIn goes through the portal's sign-in and picks email on the
// emulator's sign-in page, following redirects.
func signIn(t *testing.T, client *http.Client, base, email string) *http.Response {
	t.Helper()
	res, err := client.Get(base + "/auth/login")
	if err != nil {
		t.Fatal(err)
	}
	d, err := goquery.NewDocumentFromReader(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	btn := d.Find(`button[data-testid="person"][data-email="` + email + `"]`)
	if btn.Length() != 1 {
		t.Fatalf("the sign-in page does not offer %s", email)
	}
	form := btn.Closest("form")
	vals := url.Values{}
	form.Find("input[name]").Each(func(_ int, in *goquery.Selection) { vals.Add(in.AttrOr("name", ""), in.AttrOr("value", "")) })
	action, err := res.Request.URL.Parse(form.AttrOr("action", ""))
	if err != nil {
		t.Fatal(err)
	}
	res, err = client.PostForm(action.String(), vals)
	if err != nil {
		t.Fatal(err)
	}
	return res
}
