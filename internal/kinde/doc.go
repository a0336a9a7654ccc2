// Package kinde is Clubhouse's adapter to Kinde (kinde.com). It owns the two
// ways the portal talks to Kinde:
//
//   - sign-in as an OpenID Connect relying party (Auth): the authorize URL
//     with Kinde's parameters, the code exchange with PKCE, and the
//     verification of ID and access tokens against Kinde's JWKS, from which
//     every claim the portal trusts is read;
//   - the Management API as a machine-to-machine client (Admin), which
//     implements club.Identities: a cached client-credentials token, typed
//     requests and responses, retries with backoff and Kinde's
//     RateLimit-Reset header, metrics and logs that never carry tokens,
//     secrets or full emails.
//
// It also verifies Kinde's webhooks (WebhookVerifier) and maps Kinde's event
// types onto the domain's kinds of club.IdentityEvent (EventKind); the
// types the portal subscribes to are WebhookEventTypes.
//
// The Management API operations the portal calls are listed in one table
// (operations.go) that a test checks against Kinde's pinned OpenAPI spec.
package kinde
