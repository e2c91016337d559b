// Command minzheng is the civil-affairs platform: web server, JSON API,
// batch runner and admin CLI in one binary. See README.md.
package main

import (
	"os"

	"minzheng/internal/app"
)

func main() {
	os.Exit(app.Run(os.Args[1:], os.Stdout, os.Stderr))
}
