// Package club is Clubhouse's domain: clubs, members, roles, invitations and
// audit events, the rules that validate them, and the services that change
// them (adding a member by email, changing roles, removing a member, creating
// a club).
//
// It imports nothing of ours and speaks its own words, not a vendor's. The
// outside world reaches it through small interfaces declared here
// (Directory, Identities, AuditLog, Outbox, ...) and implemented by
// adapters: internal/store keeps the directory, internal/kinde talks to
// Kinde, the identity provider, and turns its webhooks into IdentityEvents.
package club
