// Package httpx holds the HTTP plumbing shared by every business line:
// handlers that return errors, JSON in and out, the one mapping from
// errors to responses, request logging, panics, metrics and client
// addresses. It knows nothing of the domain.
package httpx

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"minzheng/internal/errs"
)

// HandlerFunc is an HTTP handler that returns an error instead of writing it.
type HandlerFunc func(w http.ResponseWriter, r *http.Request) error

// ErrorPage renders an error for a browser; the API gets JSON instead.
type ErrorPage func(w http.ResponseWriter, r *http.Request, status int, e *errs.Error)

// Errors turns HandlerFuncs into http.Handlers with one error mapping.
type Errors struct {
	Log  *slog.Logger
	Page ErrorPage
}

// H adapts fn.
func (x Errors) H(fn HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			x.Write(w, r, err)
		}
	})
}

// Write sends err to the client: its code and Chinese message, and for
// internal errors a reference ID that is also logged with the cause.
func (x Errors) Write(w http.ResponseWriter, r *http.Request, err error) {
	e := errs.As(err)
	if e == nil || e.Code == errs.Internal {
		ref := newRef()
		x.Log.Error("request failed", "ref", ref, "method", r.Method, "path", r.URL.Path, "err", err)
		e = &errs.Error{Code: errs.Internal, Message: fmt.Sprintf("系统内部错误，请联系管理员（参考编号 %s）", ref)}
	}
	status := errs.Status(e.Code)
	if IsAPI(r) || x.Page == nil {
		WriteJSON(w, status, map[string]any{"error": e})
		return
	}
	x.Page(w, r, status, e)
}

func newRef() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// IsAPI reports whether r is a JSON API request.
func IsAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// WriteJSON writes v as JSON with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}

// DecodeJSON reads a JSON body of at most 1 MiB into v, refusing unknown
// fields, and explains problems in Chinese naming the field.
func DecodeJSON(r *http.Request, v any) error { return DecodeJSONLimit(r, v, 1<<20) }

// DecodeJSONLimit is DecodeJSON for a body of at most limit bytes, for
// requests that carry files (photos as base64).
//
// A body that is not valid UTF-8 is refused, naming the field whose text
// holds the bad bytes: decoding would silently replace them with U+FFFD
// and store a name nobody typed.
func DecodeJSONLimit(r *http.Request, v any, limit int64) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, limit))
	if err == nil && !utf8.Valid(body) {
		return invalidUTF8(body)
	}
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		var mb *http.MaxBytesError
		switch {
		case errors.As(err, &mb):
			return errs.E(errs.Invalid, "请求体超过 %d MB 的上限", mb.Limit>>20)
		case errors.As(err, &te):
			return errs.Field(te.Field, "字段 %s 的类型错误：应为 %s", te.Field, te.Type.String())
		case errors.As(err, &se):
			return errs.E(errs.Invalid, "请求体不是有效的 JSON（第 %d 个字节附近）", se.Offset)
		case errors.Is(err, io.EOF):
			return errs.E(errs.Invalid, "请求体为空")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return errs.Field(f, "未知字段 %s", f)
		}
		return errs.E(errs.Invalid, "请求体无法解析：%v", err)
	}
	return nil
}

// invalidUTF8 is the error for a JSON body that is not valid UTF-8.
func invalidUTF8(body []byte) error {
	if path := badText(body, ""); path != "" {
		return errs.Field(path, "字段 %s 含有无效字符（不是有效的 UTF-8 文本），请以 UTF-8 编码提交", path)
	}
	return errs.E(errs.Invalid, "请求体不是有效的 UTF-8 文本，请以 UTF-8 编码提交")
}

// badText returns the path (fields and indexes joined by dots) of the
// first value in the JSON document raw, found at path, that is not valid
// UTF-8: path itself for a string, "" when nothing is found (invalid bytes
// in a key, or a document that is not JSON). Raw messages keep the bytes
// as sent, which is what lets it look.
func badText(raw []byte, path string) string {
	join := func(k string) string {
		if path == "" {
			return k
		}
		return path + "." + k
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			if !utf8.Valid(obj[k]) {
				return badText(obj[k], join(k))
			}
		}
		return ""
	}
	var arr []json.RawMessage
	if json.Unmarshal(raw, &arr) == nil {
		for i, e := range arr {
			if !utf8.Valid(e) {
				return badText(e, join(strconv.Itoa(i)))
			}
		}
		return ""
	}
	if len(raw) > 0 && raw[0] == '"' {
		return path
	}
	return ""
}

// ClientIP returns the client's address: the connection's peer, or the
// first X-Forwarded-For entry when the peer is a trusted local proxy.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		if fwd := r.Header.Get("X-Forwarded-For"); fwd != "" {
			first, _, _ := strings.Cut(fwd, ",")
			return strings.TrimSpace(first)
		}
	}
	return host
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Metrics are the HTTP metrics exported at /metrics.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "minzheng_http_requests_total", Help: "HTTP requests by route and status."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "minzheng_http_request_duration_seconds", Help: "HTTP request latency by route.", Buckets: prometheus.DefBuckets}, []string{"route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}

// Observe wraps next with logging, panic recovery and metrics. Routes are
// labelled by their ServeMux pattern, so IDs do not explode the series.
func Observe(log *slog.Logger, m *Metrics, errors Errors, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		route := "unmatched"
		r = r.WithContext(context.WithValue(r.Context(), routeKey{}, &route))
		defer func() {
			if v := recover(); v != nil {
				errors.Write(sw, r, fmt.Errorf("panic: %v", v))
			}
			d := time.Since(start)
			if m != nil {
				m.requests.WithLabelValues(route, fmt.Sprint(sw.status)).Inc()
				m.duration.WithLabelValues(route).Observe(d.Seconds())
			}
			log.Info("http", "method", r.Method, "path", r.URL.Path, "route", route, "status", sw.status, "bytes", sw.bytes, "ms", d.Milliseconds(), "remote", ClientIP(r))
		}()
		next.ServeHTTP(sw, r)
	})
}

// SecurityHeaders sets headers every page should carry. Every answer but
// /static/ files and /healthz gets Cache-Control: no-store, since pages and
// API answers may carry personal data (a handler may still set its own).
// With behindTLSProxy (clients reach the server through a TLS-terminating
// proxy) every answer also carries Strict-Transport-Security, and Secure
// reports true, so cookies are marked Secure.
func SecurityHeaders(next http.Handler, behindTLSProxy bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'")
		if !strings.HasPrefix(r.URL.Path, "/static/") && r.URL.Path != "/healthz" {
			h.Set("Cache-Control", "no-store")
		}
		if behindTLSProxy {
			h.Set("Strict-Transport-Security", "max-age=31536000")
			r = r.WithContext(context.WithValue(r.Context(), secureKey{}, true))
		}
		next.ServeHTTP(w, r)
	})
}

type secureKey struct{}

// Secure reports whether the client reached the server over TLS: directly,
// or through a TLS-terminating proxy (SecurityHeaders with behindTLSProxy).
// Cookies set for r must be marked Secure when it does.
func Secure(r *http.Request) bool {
	on, _ := r.Context().Value(secureKey{}).(bool)
	return on || r.TLS != nil
}
