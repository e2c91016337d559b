package admin

import _ "embed"

// OpenAPI is this line's part of the API document (see internal/apidoc): the
// routes Routes registers under /api/v1/me, /api/v1/users and /api/v1/audit,
// the tags they use and the components this package owns. Module declares
// it, and internal/app merges it into the document served at
// /api/v1/openapi.json: a route added to Routes is documented here.
//
//go:embed openapi.json
var OpenAPI []byte
