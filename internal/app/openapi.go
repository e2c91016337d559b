package app

import (
	_ "embed"
	"fmt"
	"net/http"
	"sync"

	"minzheng/internal/admin"
	"minzheng/internal/apidoc"
	"minzheng/internal/assistance"
	"minzheng/internal/division"
	"minzheng/internal/eligibility"
	"minzheng/internal/errs"
	"minzheng/internal/monitor"
	"minzheng/internal/payroll"
	"minzheng/internal/registry"
)

// openapiBase is what every line shares: info, servers, security, the
// error shape, the common parameters and responses, and the document's own
// route.
//
//go:embed openapi.json
var openapiBase []byte

// apiParts lists the lines' parts of the document: each package that
// registers /api/v1 routes documents them in its own openapi.json.
func apiParts() []apidoc.Part {
	return []apidoc.Part{
		{Name: "registry", Doc: registry.OpenAPI},
		{Name: "division", Doc: division.OpenAPI},
		{Name: "admin", Doc: admin.OpenAPI},
		{Name: "monitor", Doc: monitor.OpenAPI},
		{Name: "eligibility", Doc: eligibility.OpenAPI},
		{Name: "payroll", Doc: payroll.OpenAPI},
		{Name: "assistance", Doc: assistance.OpenAPI},
	}
}

// openapiJSON returns the document served at /api/v1/openapi.json, merged
// once from the base and the parts. The parts are embedded, so a merge
// error is a mistake in them, which the tests catch: it panics.
var openapiJSON = sync.OnceValue(func() []byte {
	b, err := apidoc.Merge(openapiBase, apiParts()...)
	if err != nil {
		panic(fmt.Sprintf("the OpenAPI document: %v", err))
	}
	return b
})

func notFoundAPI(r *http.Request) error {
	return errs.E(errs.NotFound, "接口 %s %s 不存在，接口文档见 /api/v1/openapi.json", r.Method, r.URL.Path)
}
