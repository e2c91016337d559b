package httpx

import (
	"net/http/httptest"
	"strings"
	"testing"

	"minzheng/internal/errs"
)

// TestDecodeJSONInvalidUTF8 checks that a body that is not valid UTF-8 is
// refused naming the field that holds the bad bytes, nested or not,
// instead of being decoded with U+FFFD in their place.
func TestDecodeJSONInvalidUTF8(t *testing.T) {
	for body, field := range map[string]string{
		"{\"name\":\"王\xff伟\",\"address\":\"ok\"}": "name",
		"{\"a\":{\"b\":[\"ok\",\"\xc0\"]}}":        "a.b.1",
		"{\"n\xffame\":\"x\"}":                     "",
		"{\"name\":\"王伟\",\"note\":\"\xe4\xb8\"}":  "note",
		`{"name":"王伟"}`:                            "-", // valid: decodes
	} {
		var v map[string]any
		err := DecodeJSON(httptest.NewRequest("POST", "/", strings.NewReader(body)), &v)
		e := errs.As(err)
		switch {
		case field == "-":
			if err != nil {
				t.Errorf("%q: %v, want it decoded", body, err)
			}
		case e == nil || e.Code != errs.Invalid || !strings.Contains(e.Message, "UTF-8"):
			t.Errorf("%q: %v, want an invalid error on UTF-8", body, err)
		case field == "" && len(e.Fields) != 0, field != "" && (len(e.Fields) != 1 || e.Fields[0].Field != field):
			t.Errorf("%q: fields %+v, want %q", body, e.Fields, field)
		}
	}
}
