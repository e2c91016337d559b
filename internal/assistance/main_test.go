package assistance_test

import (
	"os"
	"testing"

	"minzheng/internal/assistance"
	"minzheng/internal/auth"
)

// TestMain registers the line's permissions, as the app does at start, for
// the tests that call the service without an app.
func TestMain(m *testing.M) {
	auth.Register(assistance.Grants)
	os.Exit(m.Run())
}
