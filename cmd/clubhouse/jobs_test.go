package main

import (
	"testing"

	"github.com/clubhouse/clubhouse/internal/jobs"
	"github.com/clubhouse/clubhouse/internal/store"
)

// The store and the job queue name their dialects each in their own words;
// the wiring translates every one the store has, and refuses the others.
func TestJobsDialect(t *testing.T) {
	tests := []struct {
		store   string
		want    jobs.Dialect
		wantErr bool
	}{
		{store.DialectSQLite, jobs.SQLite, false},
		{store.DialectPostgres, jobs.Postgres, false},
		{"mysql", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.store, func(t *testing.T) {
			got, err := jobsDialect(tt.store)
			if (err != nil) != tt.wantErr {
				t.Fatalf("jobsDialect(%q) error = %v, want error %v", tt.store, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("jobsDialect(%q) = %q, want %q", tt.store, got, tt.want)
			}
		})
	}
}
