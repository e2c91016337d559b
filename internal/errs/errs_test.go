package errs

import (
	"fmt"
	"net/http"
	"testing"
)

func TestCodeAndStatus(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		code   string
		status int
	}{
		{"nil", nil, "", http.StatusOK},
		{"plain", fmt.Errorf("boom"), Internal, http.StatusInternalServerError},
		{"wrapped not found", fmt.Errorf("registry: person 7: %w", E(NotFound, "查无此人")), NotFound, http.StatusNotFound},
		{"field", Field("id_number", "身份证号码校验位错误"), Invalid, http.StatusUnprocessableEntity},
		{"forbidden", E(Forbidden, "无权操作"), Forbidden, http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Code(tt.err); got != tt.code {
				t.Errorf("Code = %q, want %q", got, tt.code)
			}
			if got := Status(Code(tt.err)); got != tt.status {
				t.Errorf("Status = %d, want %d", got, tt.status)
			}
		})
	}
}

func TestFields(t *testing.T) {
	var fs Fields
	if fs.Err() != nil {
		t.Fatal("empty Fields must give nil")
	}
	fs.Add("name", "姓名不能为空")
	fs.Add("id_number", "身份证号码长度应为 18 位")
	e := As(fs.Err())
	if e == nil || e.Code != Invalid || len(e.Fields) != 2 || e.Fields[1].Field != "id_number" {
		t.Fatalf("got %+v", e)
	}
	if e.Message != "姓名不能为空；身份证号码长度应为 18 位" {
		t.Errorf("message %q", e.Message)
	}
}
