package app

import (
	_ "embed"
	"fmt"
	"net/http"
	"sync"

	"minzheng/internal/apidoc"
	"minzheng/internal/errs"
)

// openapiBase is what every line shares: info, servers, security, the
// error shape, the common parameters and responses, and the document's own
// route.
//
//go:embed openapi.json
var openapiBase []byte

// apiParts lists the lines' parts of the document, in the order of the
// modules: each line that registers /api/v1 routes documents them in its own
// openapi.json and declares it as its Module's OpenAPI.
func apiParts() []apidoc.Part {
	var parts []apidoc.Part
	for _, m := range Declared() {
		if m.OpenAPI != nil {
			parts = append(parts, apidoc.Part{Name: m.Name, Doc: m.OpenAPI})
		}
	}
	return parts
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
