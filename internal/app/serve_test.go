package app_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"minzheng/internal/app"
)

// TestServeShutsDownGracefully starts the real server, makes a request, and
// cancels: Serve returns without error.
func TestServeShutsDownGracefully(t *testing.T) {
	t.Setenv(app.EnvMetricsToken, "serve-test-metrics-token")
	a, err := app.Open(context.Background(), app.Config{DataDir: t.TempDir()}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, addr, nil) }()
	var r *http.Response
	for i := 0; i < 50; i++ {
		if r, err = http.Get("http://" + addr + "/healthz"); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("healthz: %v", err)
	}
	b, _ := io.ReadAll(r.Body)
	if !strings.Contains(string(b), `"status":"ok"`) {
		t.Errorf("healthz body %s", b)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer serve-test-metrics-token")
	m, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(m.Body)
	if !strings.Contains(string(mb), `minzheng_http_requests_total{code="200",route="GET /healthz"}`) {
		t.Errorf("metrics lack the healthz request")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
}
