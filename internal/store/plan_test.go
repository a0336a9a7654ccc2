package store

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clubhouse/clubhouse/internal/club"
)

// TestMemberListingUsesIndexes checks SQLite's plan for a page of members:
// the page is read in order from a covering listing index, with no sort and
// no table lookups, whatever the order and with or without a search.
func TestMemberListingUsesIndexes(t *testing.T) {
	t.Parallel()
	db := openSQLiteTest(t)
	tests := []struct {
		sort   club.MemberSort
		search string
		index  string
	}{
		{club.SortNameAsc, "", "memberships_by_name"},
		{club.SortNameDesc, "", "memberships_by_name"},
		{club.SortJoinedAsc, "", "memberships_by_joined"},
		{club.SortJoinedDesc, "", "memberships_by_joined"},
		{club.SortNameAsc, "ana", "memberships_by_name"},
		{club.SortJoinedDesc, "ana", "memberships_by_joined"},
	}
	for _, tt := range tests {
		t.Run(string(tt.sort)+"/"+tt.search, func(t *testing.T) {
			where, match, args := db.memberFilter("org_a", tt.search)
			if match != "" {
				where += " AND " + match
			}
			query := memberPageIDs(where, tt.sort, len(args))
			plan := explain(t, db, query, append(args, 25, 0)...)
			if !strings.Contains(plan, "USING COVERING INDEX "+tt.index) || strings.Contains(plan, "TEMP B-TREE") {
				t.Errorf("page plan:\n%s\nwant a covering scan of %s without a sort", plan, tt.index)
			}
			count := explain(t, db, `SELECT COUNT(*) FROM memberships WHERE `+where, args...)
			if !strings.Contains(count, "COVERING INDEX") {
				t.Errorf("count plan:\n%s\nwant a covering index", count)
			}
		})
	}
	plan := explain(t, db, `
		SELECT COUNT(*) FROM membership_roles r
		JOIN memberships m ON m.club_code = r.club_code AND m.user_id = r.user_id
		WHERE r.club_code = $1 AND r.role_key = $2 AND m.pending = FALSE`, "org_a", club.RoleOwner)
	if !strings.Contains(plan, "membership_roles_by_role") && !strings.Contains(plan, "sqlite_autoindex_membership_roles") {
		t.Errorf("count with role plan:\n%s\nwant an index on the role", plan)
	}
}

func explain(t *testing.T, db *DB, query string, args ...any) string {
	t.Helper()
	rows, err := db.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatalf("explain: %v", err)
		}
		b.WriteString(detail + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("explain: %v", err)
	}
	return b.String()
}

// TestNoAuditRewrites keeps the audit log append-only in the code as well as
// in the database: no statement in the package updates or deletes audit
// rows.
func TestNoAuditRewrites(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	sqlFiles, err := filepath.Glob("migrations/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	rewrite := regexp.MustCompile(`(?is)\b(update\s+audit_events|delete\s+from\s+audit_events|truncate\s+(table\s+)?audit_events)\b`)
	checked := 0
	for _, f := range append(files, sqlFiles...) {
		if strings.HasSuffix(f, "_test.go") {
			continue // the tests try such statements, to see them refused
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		if m := rewrite.Find(src); m != nil {
			t.Errorf("%s: %q rewrites the audit log", f, m)
		}
	}
	if checked < 5 {
		t.Errorf("checked only %d files", checked)
	}
}

// TestFailedInvitationsUsesIndexes checks SQLite's plan for the count the
// members page shows: it reads only the club's given-up invitations, and
// finds a newer one by index, however many invitations the club sent.
func TestFailedInvitationsUsesIndexes(t *testing.T) {
	t.Parallel()
	db := openSQLiteTest(t)
	plan := explain(t, db, failedInvitationsQuery, "org_a")
	for _, want := range []string{"outbox_failed_by_club", "outbox_by_club_email"} {
		if !strings.Contains(plan, want) {
			t.Errorf("failed invitations plan:\n%s\nwant it to use %s", plan, want)
		}
	}
}
