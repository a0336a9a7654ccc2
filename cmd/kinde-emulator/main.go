// Command kinde-emulator runs the local Kinde emulator on its own: an
// OpenID Provider with a dev sign-in page, the Management API subset the
// portal uses, webhook delivery and the /_emulator/ control plane. It prints
// the issuer, the seeded applications' credentials and the seeded people at
// start. It is a development tool; it listens on loopback only unless told
// otherwise.
package main

import (
	"context"
	"fmt"
	"os"
)

func main() {
	if err := run(context.Background(), os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
