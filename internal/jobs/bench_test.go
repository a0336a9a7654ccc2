package jobs

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/clubhouse/clubhouse/internal/club"
	"github.com/clubhouse/clubhouse/internal/kinde"
)

// BenchmarkWebhookThroughput measures Kinde webhooks end to end on SQLite:
// verify the RS256 JWT, record the delivery and queue its job in one
// transaction, and the job applying the event to the directory (a new
// member of a known club each: membership, roles, audit row, stale claims).
// It reports events/s over the whole pipeline; the goal is 200.
func BenchmarkWebhookThroughput(b *testing.B) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	const kid = "bench"
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &priv.PublicKey, KeyID: kid, Algorithm: "RS256", Use: "sig"}}})
	}))
	defer jwks.Close()
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: priv}, (&jose.SignerOptions{}).WithHeader("kid", kid))
	if err != nil {
		b.Fatal(err)
	}
	verifier := kinde.NewWebhookVerifier(jwks.URL, nil)

	db := openStore(b, database{url: "sqlite:" + b.TempDir() + "/bench.db"})
	ctx := b.Context()
	if _, err := db.ReplaceMembers(ctx, club.Club{Code: "org_bench"}, nil, 1, time.Now(), func(club.SyncChanges) *club.AuditEvent { return nil }); err != nil {
		b.Fatal(err)
	}
	applied := make(chan struct{}, 1024)
	j, err := New(ctx, Config{DB: db.JobsDB(), Dialect: SQLite, Inbox: storeInbox{db}, WebhookCoalesce: -1,
		PollInterval: 50 * time.Millisecond,
		Handlers: Handlers{Webhook: func(ctx context.Context, ev club.IdentityEvent) error {
			// What a re-read would find is the payload's state here: the
			// benchmark measures the pipeline, not Kinde.
			v, err := db.BeginRead(ctx)
			if err != nil {
				return err
			}
			f := club.PersonFacts{Person: ev.Person.Person, Gone: ev.Person.Deleted, Clubs: map[string][]string{}}
			for _, cr := range ev.Person.Clubs {
				f.Clubs[cr.Code] = cr.Roles
			}
			if _, err = db.ApplyPerson(ctx, v, f); err == nil {
				applied <- struct{}{}
			}
			return err
		}}})
	if err != nil {
		b.Fatal(err)
	}
	if err := j.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer func() { _ = j.Stop(context.WithoutCancel(ctx)) }()

	tokens := make([][]byte, b.N)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range b.N {
		payload, _ := json.Marshal(map[string]any{
			"type": kinde.EventUserUpdated, "event_id": fmt.Sprintf("event_%032x", i), "source": "api",
			"timestamp": base.Add(time.Duration(i) * time.Millisecond).Format(time.RFC3339Nano),
			"data": map[string]any{"user": map[string]any{
				"id": fmt.Sprintf("kp_%032x", i), "email": fmt.Sprintf("bench%d@example.org", i), "first_name": "B", "last_name": "M",
				"organizations": []any{map[string]any{"code": "org_bench", "roles": []any{map[string]any{"id": "r1", "key": "member"}}}},
			}},
		})
		jws, err := signer.Sign(payload)
		if err != nil {
			b.Fatal(err)
		}
		s, _ := jws.CompactSerialize()
		tokens[i] = []byte(s)
	}

	b.ResetTimer()
	start := time.Now()
	for i, tok := range tokens {
		ev, err := verifier.Verify(ctx, tok)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := j.AcceptWebhook(ctx, fmt.Sprintf("msg_%d", i), ev); err != nil {
			b.Fatal(err)
		}
	}
	accepted := time.Since(start)
	for range b.N {
		select {
		case <-applied:
		case <-time.After(time.Minute):
			b.Fatal("events were not applied")
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
	b.ReportMetric(float64(b.N)/accepted.Seconds(), "accepted/s")
}
