package division

import (
	"fmt"
	"net/http"
	"strconv"

	"minzheng/internal/httpx"
	"minzheng/internal/tabular"
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
	r.H("GET /divisions/{code}/export.xlsx", h.export)
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

// export writes the children of a division with their counts to Excel.
func (h *HTTP) export(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	n, err := h.Service.ExportNode(r.Context(), p, r.PathValue("code"))
	if err != nil {
		return err
	}
	rows := make([][]string, 0, len(n.ChildStats))
	for _, s := range n.ChildStats {
		rows = append(rows, []string{s.Code, s.Name, s.Level.Label(), strconv.FormatInt(s.Persons, 10), strconv.FormatInt(s.Households, 10)})
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="divisions-%s.xlsx"`, n.Code))
	return tabular.WriteXLSX(w, n.Name, []string{"代码", "名称", "层级", "户籍人口", "户数"}, rows)
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
