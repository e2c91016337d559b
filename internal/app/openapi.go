package app

import (
	_ "embed"
	"net/http"

	"minzheng/internal/errs"
)

//go:embed openapi.json
var openapiJSON []byte

func notFoundAPI(r *http.Request) error {
	return errs.E(errs.NotFound, "接口 %s %s 不存在，接口文档见 /api/v1/openapi.json", r.Method, r.URL.Path)
}
