// Package emulator is a faithful, local, in-memory stand-in for a Kinde
// business: an OpenID Provider (sign-in pages, /oauth2/*, JWKS), the subset of
// the Kinde Management API the portal uses (/api/v1/...), webhook delivery
// (with a hold mode in which tests release, repeat and delay deliveries),
// and an emulator-only control plane (/_emulator/...) for seeding, resetting,
// fault injection, rate limiting, a virtual clock and a request journal.
//
// Everything reads and writes one World, so a role granted through the
// Management API shows up in the next token, as it does in Kinde. Tests start
// it in-process (see package emulatortest); cmd/kinde-emulator runs it
// standalone. It is a development and test tool and must never face the
// internet.
package emulator
