package division

import (
	"net/http"

	"minzheng/internal/httpx"
	"minzheng/internal/web"
)

// HTTP serves the division browser and its API.
type HTTP struct {
	Service *Service
	Render  *web.Renderer
}

// Routes registers the handlers.
func (h *HTTP) Routes(r *httpx.Router) {
	r.H("GET /divisions/{code}", h.page)
	r.H("GET /api/v1/divisions/{code}", h.api)
}

func (h *HTTP) page(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	n, err := h.Service.Node(r.Context(), p, r.PathValue("code"))
	if err != nil {
		return err
	}
	page := web.PageFor(r, n.Name)
	page.Data = n
	return h.Render.Render(w, http.StatusOK, "divisions", page)
}

// apiNode is the JSON shape of GET /api/v1/divisions/{code}.
type apiNode struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	Level      Level  `json:"level"`
	Parent     string `json:"parent,omitempty"`
	Persons    int64  `json:"persons"`
	Households int64  `json:"households"`
	Children   []Ref  `json:"children"`
}

func (h *HTTP) api(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	n, err := h.Service.Node(r.Context(), p, r.PathValue("code"))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, apiNode{Code: n.Code, Name: n.Name, Level: n.Level, Parent: n.Parent, Persons: n.Persons, Households: n.Households, Children: n.Children})
	return nil
}
