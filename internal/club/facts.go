package club

// Version orders what the directory learns about memberships. The
// directory hands versions out in the order they are asked for, across
// every portal instance: a reader of Kinde takes one before it reads, and
// the portal's own writes take one once Kinde has done what they asked.
// A fact under version v replaces only facts older than v, so a late or
// slow reader can never put an older view of Kinde over a newer one.
type Version int64

// PersonFacts is what one re-read of a person in Kinde found, under the
// version taken before the read.
type PersonFacts struct {
	// Person is the person as Kinde has them (id, email, Kinde's names).
	Person Person
	// Gone is true when Kinde no longer has the person at all.
	Gone bool
	// Clubs are the clubs Kinde has the person in, by code, with their
	// role keys there. Only the clubs the portal keeps members of need
	// roles; the others are listed with nil roles.
	Clubs map[string][]string
}
