// Package archtest holds the test that keeps the dependency arrows between
// the portal's packages as docs/ARCHITECTURE.md draws them: the domain
// imports nothing of ours, views reach no I/O layer, no adapter reaches
// another, web reaches no adapter but its sessions, and the production
// build leaves out the local Kinde; and the test that keeps the domain's
// identifiers free of vendor words (vocabulary_test.go). It has no code of
// its own: see arch_test.go.
package archtest
