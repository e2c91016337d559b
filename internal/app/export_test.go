package app

// OpenAPIJSON and APIParts let the tests of package app_test read the
// merged document and its parts.
var (
	OpenAPIJSON = openapiJSON
	APIParts    = apiParts
)
