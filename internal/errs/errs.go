// Package errs defines the application error: a stable code, a Chinese
// message safe to show to users, and the fields it concerns. It maps codes to
// HTTP status in one place.
package errs

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Error codes. They are part of the API: scripts match on them.
const (
	Invalid      = "invalid"      // the input is wrong; Fields says where
	NotFound     = "not_found"    // no such record, or not in the caller's jurisdiction
	Unauthorized = "unauthorized" // not logged in or bad token
	Forbidden    = "forbidden"    // logged in, but the role may not do this
	Conflict     = "conflict"     // duplicate or concurrent change
	TooMany      = "too_many_requests"
	Internal     = "internal" // a bug or an outage; the message carries a reference ID
)

// FieldError names one field and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an error a user may see.
type Error struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
	Err     error        `json:"-"` // the cause, for the log only
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	b.WriteString(": ")
	b.WriteString(e.Message)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "; %s: %s", f.Field, f.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// E returns an Error with a code and a Chinese message.
func E(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an Invalid error that names one field.
func Field(field, format string, args ...any) *Error {
	msg := fmt.Sprintf(format, args...)
	return &Error{Code: Invalid, Message: msg, Fields: []FieldError{{Field: field, Message: msg}}}
}

// Fields collects field errors; Err returns nil when there are none.
type Fields []FieldError

// Add records a problem with a field.
func (fs *Fields) Add(field, format string, args ...any) {
	*fs = append(*fs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns an Invalid error listing the fields, or nil.
func (fs Fields) Err() error {
	if len(fs) == 0 {
		return nil
	}
	msgs := make([]string, len(fs))
	for i, f := range fs {
		msgs[i] = f.Message
	}
	return &Error{Code: Invalid, Message: strings.Join(msgs, "；"), Fields: fs}
}

// Code returns the code of the first *Error in err's chain, Internal for any
// other error, and "" for nil.
func Code(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// As returns the *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Status maps an error code to its HTTP status.
func Status(code string) int {
	switch code {
	case "":
		return http.StatusOK
	case Invalid:
		return http.StatusUnprocessableEntity
	case NotFound:
		return http.StatusNotFound
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case Conflict:
		return http.StatusConflict
	case TooMany:
		return http.StatusTooManyRequests
	default:
		return http.StatusInternalServerError
	}
}

// IsNotFound reports whether err has code NotFound.
func IsNotFound(err error) bool { return Code(err) == NotFound }
