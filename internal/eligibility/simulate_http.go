package eligibility

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"minzheng/internal/errs"
	"minzheng/internal/tabular"
	"minzheng/internal/web"
)

// simulationHeader is the header of simulation exports.
var simulationHeader = []string{"项目", "区", "新增符合（户/人次）", "新增符合人数", "不再符合（户/人次）", "不再符合人数", "测算后符合", "现行月支出（元）", "测算后月支出（元）", "月支出变化（元）", "年支出变化（元）"}

// WriteSimulationXLSX writes a simulation to Excel: the city totals, then
// every district.
func WriteSimulationXLSX(w io.Writer, sim *Simulation) error {
	var rows [][]string
	f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
	for _, list := range [][]SimRow{sim.Total, sim.Rows} {
		for _, r := range list {
			rows = append(rows, []string{r.Name, r.DistrictName, strconv.Itoa(r.SubjectsGain), strconv.Itoa(r.PeopleGain), strconv.Itoa(r.SubjectsLose),
				strconv.Itoa(r.PeopleLose), strconv.Itoa(r.SubjectsAfter), f(r.MonthlyBefore), f(r.MonthlyAfter), f(r.MonthlyDelta), f(r.YearlyDelta)})
		}
	}
	return tabular.WriteXLSX(w, "模拟测算", simulationHeader, rows)
}

// SimulatePage serves the what-if page: a form, the results by district, a
// chart and an Excel export. Nothing is written.
type SimulatePage struct {
	Service      *Service
	Render       *web.Renderer
	DistrictName func(string) string
}

type simData struct {
	Set        string
	From       string
	Parameters []string
	Sim        *Simulation
	Chart      string       // ECharts option as JSON
	Query      template.URL // the request's own query, re-used for the export link
	Error      string
}

func (h *SimulatePage) run(r *http.Request) (*simData, error) {
	p, err := web.Require(r)
	if err != nil {
		return nil, err
	}
	if err := MaySimulate(p); err != nil {
		return nil, err
	}
	q := r.URL.Query()
	d := &simData{Set: q.Get("set"), From: q.Get("from"), Parameters: h.Service.Policies.ParameterNames()}
	if d.From == "" {
		d.From = time.Now().Format(time.DateOnly)
	}
	if d.Set == "" {
		return d, nil
	}
	on, err := time.Parse(time.DateOnly, d.From)
	if err != nil {
		return nil, errs.Field("from", "日期“%s”应为 YYYY-MM-DD", d.From)
	}
	over, err := h.Service.ParseSet(strings.Split(d.Set, ","))
	if err != nil {
		return nil, err
	}
	if d.Sim, err = h.Service.Simulate(r.Context(), p, over, on, h.DistrictName); err != nil {
		return nil, err
	}
	d.Query = template.URL(r.URL.Query().Encode())
	d.Chart = chartOption(d.Sim)
	return d, nil
}

func (h *SimulatePage) page(w http.ResponseWriter, r *http.Request) error {
	d, err := h.run(r)
	status := http.StatusOK
	if e := errs.As(err); e != nil && e.Code == errs.Invalid {
		q := r.URL.Query()
		d, err, status = &simData{Set: q.Get("set"), From: q.Get("from"), Parameters: h.Service.Policies.ParameterNames(), Error: e.Message}, nil, http.StatusUnprocessableEntity
	}
	if err != nil {
		return err
	}
	page := web.PageFor(r, "政策模拟测算")
	page.Data = d
	return h.Render.Render(w, status, "simulate", page)
}

func (h *SimulatePage) export(w http.ResponseWriter, r *http.Request) error {
	d, err := h.run(r)
	if err != nil {
		return err
	}
	if d.Sim == nil {
		return errs.Field("set", "请先设定参数")
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="simulation-%s.xlsx"`, d.From))
	return WriteSimulationXLSX(w, d.Sim)
}

// chartOption draws the monthly cost change by district, one bar series
// per programme that changes.
func chartOption(sim *Simulation) string {
	var districts []string
	idx := map[string]int{}
	for _, r := range sim.Rows {
		if _, ok := idx[r.DistrictName]; !ok && r.District != "" {
			idx[r.DistrictName] = len(districts)
			districts = append(districts, r.DistrictName)
		}
	}
	type series struct {
		Name string    `json:"name"`
		Type string    `json:"type"`
		Data []float64 `json:"data"`
	}
	var ss []series
	var legend []string
	for _, t := range sim.Changed() {
		s := series{Name: t.Name, Type: "bar", Data: make([]float64, len(districts))}
		for _, r := range sim.Rows {
			if r.Program == t.Program {
				if i, ok := idx[r.DistrictName]; ok {
					s.Data[i] = r.MonthlyDelta
				}
			}
		}
		ss = append(ss, s)
		legend = append(legend, t.Name)
	}
	opt := map[string]any{
		"title":   map[string]any{"text": "月支出变化（元）按区", "left": "center", "textStyle": map[string]any{"fontSize": 14}},
		"tooltip": map[string]any{"trigger": "axis"},
		"legend":  map[string]any{"data": legend, "top": 24},
		"grid":    map[string]any{"left": 60, "right": 20, "bottom": 80, "top": 60},
		"xAxis":   map[string]any{"type": "category", "data": districts, "axisLabel": map[string]any{"rotate": 40}},
		"yAxis":   map[string]any{"type": "value"},
		"series":  ss,
	}
	b, _ := json.Marshal(opt)
	return string(b)
}
