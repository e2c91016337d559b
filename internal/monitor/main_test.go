package monitor_test

import (
	"os"
	"testing"

	"minzheng/internal/auth"
	"minzheng/internal/monitor"
)

// TestMain registers the line's permissions, as the app does at start, for
// the tests that call the service without an app.
func TestMain(m *testing.M) {
	auth.Register(monitor.Grants)
	os.Exit(m.Run())
}
