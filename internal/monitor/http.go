package monitor

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"minzheng/internal/auth"
	"minzheng/internal/errs"
	"minzheng/internal/httpx"
	"minzheng/internal/tabular"
	"minzheng/internal/web"
)

// MaxUpload is the largest feed file accepted through the web (256 MiB);
// larger deliveries go through `minzheng import feed`.
const MaxUpload = 256 << 20

// maxJSONBatch caps a JSON batch body.
const maxJSONBatch = 256 << 20

// HTTP serves the monitoring pages (dashboard, the adviser's task list on
// a phone, feeds and rules) and the JSON API.
type HTTP struct {
	Service *Service
	Render  *web.Renderer
	// AfterImport, if set, is called after a batch is written, so that
	// its events (a death) are delivered at once.
	AfterImport func()
}

// Routes registers the handlers.
func (h *HTTP) Routes(r *httpx.Router) {
	r.H("GET /monitor", h.dashboardPage)
	r.H("GET /monitor/export.xlsx", h.export)
	r.H("GET /monitor/tasks", h.tasksPage)
	r.H("GET /monitor/tasks/{id}", h.taskPage)
	r.H("POST /monitor/tasks/{id}/visit", h.visit)
	r.H("POST /monitor/tasks/{id}/respond", h.respond)
	r.H("GET /monitor/tasks/{id}/photos/{photo}", h.photo)
	r.H("GET /monitor/feeds", h.feedsPage)
	r.H("POST /monitor/feeds", h.feedsUpload)
	r.H("POST /monitor/rules", h.saveRule)
	r.H("POST /monitor/weather", h.weather)
	r.H("POST /monitor/sweep", h.sweep)

	r.H("POST /api/v1/feeds/{type}", h.apiImport)
	r.H("GET /api/v1/monitor/tasks", h.apiTasks)
	r.H("GET /api/v1/monitor/tasks/{id}", h.apiTask)
	r.H("POST /api/v1/monitor/tasks/{id}/visits", h.apiVisit)
	r.H("POST /api/v1/monitor/weather", h.apiWeather)
	r.H("GET /api/v1/monitor/calls/stats", h.apiCallStats)
	r.H("GET /api/v1/monitor/dashboard", h.apiDashboard)
}

type dashboardData struct {
	Dash     Dashboard
	Division string
	Name     string
	Map      string // ECharts option of the district map
	Trend    string // ECharts option of warnings per day
	Query    string // the filter, for the export link
}

func (h *HTTP) dashboardPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	days, _ := strconv.Atoi(q.Get("days"))
	division := q.Get("division")
	d, err := h.Service.Dashboard(r.Context(), p, division, days)
	if err != nil {
		return err
	}
	page := web.PageFor(r, "低收入人口动态监测")
	data := dashboardData{Dash: d, Division: division, Name: h.Service.Tree.Name(division), Map: mapOption(d), Trend: trendOption(d)}
	if division != "" {
		data.Query = "division=" + division
	}
	page.Data = data
	return h.Render.Render(w, http.StatusOK, "monitor", page)
}

// mapOption colours Shanghai's districts by open tasks; a click drills
// down to the district.
func mapOption(d Dashboard) string {
	type item struct {
		Name  string `json:"name"`
		Value int    `json:"value"`
		Code  string `json:"code"`
	}
	items := []item{}
	top := 1
	for _, r := range d.Districts {
		items = append(items, item{Name: r.Name, Value: r.Open, Code: r.Code})
		top = max(top, r.Open)
	}
	opt := map[string]any{
		"tooltip":   map[string]any{"trigger": "item"},
		"visualMap": map[string]any{"min": 0, "max": top, "left": "left", "bottom": 10, "calculable": true, "inRange": map[string]any{"color": []string{"#e0f3f8", "#fdae61", "#d73027"}}},
		"series":    []any{map[string]any{"name": "待处置任务", "type": "map", "map": "shanghai", "roam": true, "label": map[string]any{"show": false}, "data": items}},
	}
	b, _ := json.Marshal(opt)
	return string(b)
}

func trendOption(d Dashboard) string {
	days := make([]string, len(d.Daily))
	ns := make([]int, len(d.Daily))
	for i, c := range d.Daily {
		days[i], ns[i] = c.Label, c.N
	}
	opt := map[string]any{
		"tooltip": map[string]any{"trigger": "axis"},
		"grid":    map[string]any{"left": 40, "right": 10, "top": 20, "bottom": 30},
		"xAxis":   map[string]any{"type": "category", "data": days},
		"yAxis":   map[string]any{"type": "value", "minInterval": 1},
		"series":  []any{map[string]any{"name": "预警", "type": "bar", "data": ns}},
	}
	b, _ := json.Marshal(opt)
	return string(b)
}

func filterOf(r *http.Request) TaskFilter {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	return TaskFilter{Status: q.Get("status"), Division: q.Get("division"), Kind: q.Get("kind"), Severity: q.Get("severity"), Rule: q.Get("rule"), Limit: limit}
}

func (h *HTTP) export(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	f := filterOf(r)
	if _, _, err := h.Service.taskWhere(p, f); err != nil {
		return err
	}
	if err := MayExportTasks(p); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", `attachment; filename="monitor-tasks.xlsx"`)
	_, err = h.Service.ExportTasks(r.Context(), p, f, w)
	return err
}

type tasksData struct {
	Tasks  []Task
	Status string
}

func (h *HTTP) tasksPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	f := filterOf(r)
	if f.Status == "" {
		f.Status = "open"
	}
	ts, err := h.Service.Tasks(r.Context(), p, f)
	if err != nil {
		return err
	}
	page := web.PageFor(r, "我的走访任务")
	page.Data = tasksData{Tasks: ts, Status: f.Status}
	return h.Render.Render(w, http.StatusOK, "monitor_tasks", page)
}

type taskData struct {
	Detail       TaskDetail
	Data         []KV
	Dispositions []Choice
	Error        *errs.Error
	CanVisit     bool
}

// KV is one line of the data behind a warning.
type KV struct{ Key, Value string }

// dataLabels names the data behind a warning in Chinese.
var dataLabels = []KV{{"age", "年龄"}, {"lives_alone", "独居"}, {"members", "家庭人数"}, {"household_income", "家庭月收入（元）"},
	{"per_capita_income", "月人均收入（元）"}, {"dibao", "低保"}, {"edge", "低保边缘"}, {"recipient", "在享待遇"}, {"medical_3m", "近 3 个月医疗自付（元）"},
	{"silent_hours", "连续无用水（小时）"}, {"history_days", "水表观察天数"}, {"use_share", "有用水天数占比"}, {"arrears_months", "欠费月数"},
	{"arrears_amount", "欠费金额（元）"}, {"unemployed", "近期失业登记"}, {"dibao_standard", "低保标准（元）"}}

func dataLines(raw json.RawMessage) []KV {
	var m map[string]any
	json.Unmarshal(raw, &m)
	var out []KV
	for _, l := range dataLabels {
		v, ok := m[l.Key]
		if !ok {
			continue
		}
		s := fmt.Sprint(v)
		switch v := v.(type) {
		case bool:
			s = map[bool]string{true: "是", false: "否"}[v]
		case float64:
			if l.Key == "use_share" {
				s = fmt.Sprintf("%.0f%%", v*100)
			} else {
				s = strconv.FormatFloat(v, 'f', -1, 64)
				if strings.Contains(s, ".") {
					s = fmt.Sprintf("%.2f", v)
				}
			}
		}
		out = append(out, KV{l.Value, s})
	}
	return out
}

func (h *HTTP) taskPage(w http.ResponseWriter, r *http.Request) error {
	return h.renderTask(w, r, nil, http.StatusOK)
}

func (h *HTTP) renderTask(w http.ResponseWriter, r *http.Request, e *errs.Error, status int) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	d, err := h.Service.Task(r.Context(), p, id)
	if err != nil {
		return err
	}
	page := web.PageFor(r, d.Title)
	page.Data = taskData{Detail: d, Data: dataLines(d.Data), Dispositions: DispositionChoices(), Error: e, CanVisit: p.Can(PermVisit)}
	return h.Render.Render(w, status, "monitor_task", page)
}

func pathInt(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, errs.Field(name, "编号“%s”不是有效数字", r.PathValue(name))
	}
	return id, nil
}

func (h *HTTP) visit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPhotos*maxPhoto+1<<20)
	if err := r.ParseMultipartForm(16 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return errs.Field("photos", "照片太大或上传中断，请重试")
	}
	v := Visit{Date: r.FormValue("date"), Found: r.FormValue("found"), Disposition: r.FormValue("disposition")}
	if r.MultipartForm != nil {
		for _, fh := range r.MultipartForm.File["photos"] {
			f, err := fh.Open()
			if err != nil {
				return err
			}
			b, err := io.ReadAll(io.LimitReader(f, maxPhoto+1))
			f.Close()
			if err != nil {
				return err
			}
			if len(b) == 0 {
				continue
			}
			v.Photos = append(v.Photos, Photo{Name: fh.Filename, ContentType: http.DetectContentType(b), Data: b})
		}
	}
	if _, err := h.Service.RecordVisit(r.Context(), p, id, v); err != nil {
		if e := errs.As(err); e != nil && e.Code == errs.Invalid {
			return h.renderTask(w, r, e, http.StatusUnprocessableEntity)
		}
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/monitor/tasks/%d", id), http.StatusSeeOther)
	return nil
}

func (h *HTTP) respond(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	if _, err := h.Service.Respond(r.Context(), p, id); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/monitor/tasks/%d", id), http.StatusSeeOther)
	return nil
}

func (h *HTTP) photo(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	pid, err := pathInt(r, "photo")
	if err != nil {
		return err
	}
	ph, err := h.Service.Photo(r.Context(), p, id, pid)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ph.ContentType)
	w.Header().Set("Cache-Control", "no-store") // a visit photo of a home is personal data
	_, err = w.Write(ph.Data)
	return err
}

type feedsData struct {
	Types      []FeedType
	Batches    []BatchRow
	Rules      []Rule
	Result     *Result
	FileName   string
	Error      string
	Done       string // what the last action did: rule, weather, sweep
	DoneN      int    // how many tasks or warnings it made
	RuleError  *errs.Error
	Severities []Severity
	Pops       []Population
	Districts  []string
	CanRules   bool
	CanImport  bool
}

func (h *HTTP) feedsData(r *http.Request, p auth.Principal) (feedsData, error) {
	d := feedsData{Types: FeedTypes, Severities: Severities, Pops: Populations, CanRules: p.Can(PermRules) && p.Scope().CityWide(),
		CanImport: MayImport(p) == nil}
	var err error
	if d.Rules, err = h.Service.Rules(r.Context(), p); err != nil {
		return d, err
	}
	if d.CanImport {
		if d.Batches, err = h.Service.Batches(r.Context(), p, 20); err != nil {
			return d, err
		}
	}
	return d, nil
}

func (h *HTTP) feedsPage(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	d, err := h.feedsData(r, p)
	if err != nil {
		return err
	}
	if kind, n, ok := strings.Cut(r.URL.Query().Get("done"), "-"); ok || kind == "rule" {
		d.Done, d.DoneN = kind, atoi(n)
	}
	page := web.PageFor(r, "部门数据与预警规则")
	page.Data = d
	return h.Render.Render(w, http.StatusOK, "monitor_feeds", page)
}

func (h *HTTP) feedsUpload(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	if err := MayImport(p); err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxUpload+1<<20)
	status := http.StatusOK
	var res *Result
	var name string
	err = func() error {
		f, hdr, err := r.FormFile("file")
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errs.Field("file", "文件超过 %d MB，请用命令 minzheng import feed 导入", MaxUpload>>20)
		}
		if err != nil {
			return errs.Field("file", "请选择要上传的文件")
		}
		defer f.Close()
		name = hdr.Filename
		content, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		t, ok := ParseFeedType(r.FormValue("type"))
		if !ok {
			return errs.Field("type", "请选择数据类型")
		}
		tab, err := tabular.Read(strings.NewReader(string(content)), hdr.Filename, MaxUpload)
		if err != nil {
			return errs.E(errs.Invalid, "%s", tableMessage(err))
		}
		batch := strings.TrimSpace(r.FormValue("batch"))
		if batch == "" {
			batch = BatchIDOf(t, content)
		}
		x, err := h.Service.Import(r.Context(), p, ImportRequest{Type: t, Batch: batch, Source: strings.TrimSpace(r.FormValue("source")), Table: tab, GoodOnly: r.FormValue("good_only") == "1"})
		if err != nil {
			return err
		}
		res = &x
		return nil
	}()
	d, derr := h.feedsData(r, p)
	if derr != nil {
		return derr
	}
	d.Result, d.FileName = res, name
	if err != nil {
		e := errs.As(err)
		if e == nil || e.Code == errs.Internal {
			return err
		}
		d.Error, status = e.Message, errs.Status(e.Code)
	} else if res.Written && h.AfterImport != nil {
		h.AfterImport()
	}
	page := web.PageFor(r, "部门数据与预警规则")
	page.Data = d
	return h.Render.Render(w, status, "monitor_feeds", page)
}

func (h *HTTP) saveRule(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	days, _ := strconv.Atoi(r.FormValue("suppress_days"))
	rule := Rule{Code: r.FormValue("code"), Name: r.FormValue("name"), Severity: Severity(r.FormValue("severity")), Population: Population(r.FormValue("population")),
		Feed: FeedType(r.FormValue("feed_type")), Expression: r.FormValue("expression"), SuppressDays: days, Enabled: r.FormValue("enabled") == "1"}
	if _, err := h.Service.SaveRule(r.Context(), p, rule); err != nil {
		e := errs.As(err)
		if e == nil || e.Code != errs.Invalid {
			return err
		}
		d, derr := h.feedsData(r, p)
		if derr != nil {
			return derr
		}
		d.RuleError = e
		page := web.PageFor(r, "部门数据与预警规则")
		page.Data = d
		return h.Render.Render(w, http.StatusUnprocessableEntity, "monitor_feeds", page)
	}
	http.Redirect(w, r, "/monitor/feeds?done=rule", http.StatusSeeOther)
	return nil
}

func (h *HTTP) weather(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	var districts []string
	for _, d := range strings.FieldsFunc(r.FormValue("districts"), func(c rune) bool { return c == ',' || c == '，' || c == ' ' || c == '、' }) {
		districts = append(districts, d)
	}
	n, err := h.Service.WeatherSweep(r.Context(), p, r.FormValue("kind"), districts)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/monitor/feeds?done=weather-%d", n), http.StatusSeeOther)
	return nil
}

func (h *HTTP) sweep(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	st, err := h.Service.Sweep(r.Context(), p)
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/monitor/feeds?done=sweep-%d", st.Warnings), http.StatusSeeOther)
	return nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// API.

// FeedBatch is the body of POST /api/v1/feeds/{type}.
type FeedBatch struct {
	Batch    string           `json:"batch"`
	Source   string           `json:"source,omitempty"`
	GoodOnly bool             `json:"good_only,omitempty"`
	Rows     []map[string]any `json:"rows"`
}

func (h *HTTP) apiImport(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	t, ok := ParseFeedType(r.PathValue("type"))
	if !ok {
		return errs.Field("type", "未知的数据类型“%s”，可选：%s", r.PathValue("type"), feedTypeList())
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxJSONBatch)
	var b FeedBatch
	if err := httpx.DecodeJSON(r, &b); err != nil {
		return err
	}
	if b.Rows == nil {
		return errs.Field("rows", "rows 不能为空")
	}
	tab, err := TableOf(b.Rows)
	if err != nil {
		return err
	}
	res, err := h.Service.Import(r.Context(), p, ImportRequest{Type: t, Batch: b.Batch, Source: b.Source, Table: tab, GoodOnly: b.GoodOnly})
	if err != nil {
		return err
	}
	if res.Written && !res.Replayed && h.AfterImport != nil {
		h.AfterImport()
	}
	httpx.WriteJSON(w, http.StatusOK, res)
	return nil
}

// TaskList is the answer of GET /api/v1/monitor/tasks.
type TaskList struct {
	Items []Task `json:"items"`
}

func (h *HTTP) apiTasks(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	ts, err := h.Service.Tasks(r.Context(), p, filterOf(r))
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, TaskList{Items: ts})
	return nil
}

func (h *HTTP) apiDashboard(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	days, _ := strconv.Atoi(r.URL.Query().Get("days"))
	d, err := h.Service.Dashboard(r.Context(), p, r.URL.Query().Get("division"), days)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}

func (h *HTTP) apiTask(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	d, err := h.Service.Task(r.Context(), p, id)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, d)
	return nil
}

// VisitRequest is the body of POST /api/v1/monitor/tasks/{id}/visits: a
// visit as the adviser's phone records it.
type VisitRequest struct {
	VisitedOn   string       `json:"visited_on,omitempty"` // YYYY-MM-DD; "" is today
	Found       string       `json:"found"`
	Disposition string       `json:"disposition"`
	Photos      []PhotoInput `json:"photos,omitempty"`
}

// PhotoInput is a photo of a visit sent as base64. Its type is read from
// its bytes, as for an upload; the declared one is only a hint.
type PhotoInput struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type,omitempty"`
	Data        string `json:"data"`
}

// maxVisitBody caps the JSON of a visit: its photos in base64.
const maxVisitBody = maxPhotos*maxPhoto*4/3 + 1<<20

func (h *HTTP) apiVisit(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	id, err := pathInt(r, "id")
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxVisitBody)
	var req VisitRequest
	if err := httpx.DecodeJSONLimit(r, &req, maxVisitBody); err != nil {
		return err
	}
	v := Visit{Date: req.VisitedOn, Found: req.Found, Disposition: req.Disposition}
	var fe errs.Fields
	for i, ph := range req.Photos {
		b, err := base64.StdEncoding.DecodeString(ph.Data)
		if err != nil || len(b) == 0 {
			fe.Add(fmt.Sprintf("photos[%d].data", i), "第 %d 张照片的 data 应为非空的 base64 编码", i+1)
			continue
		}
		name := strings.TrimSpace(ph.Name)
		if name == "" {
			name = fmt.Sprintf("photo-%d", i+1)
		}
		v.Photos = append(v.Photos, Photo{Name: name, ContentType: http.DetectContentType(b), Data: b})
	}
	if err := fe.Err(); err != nil {
		return err
	}
	t, err := h.Service.RecordVisit(r.Context(), p, id, v)
	if err != nil {
		// The service names the date "date", as the form does.
		return renameField(err, "date", "visited_on")
	}
	w.Header().Set("Location", fmt.Sprintf("/api/v1/monitor/tasks/%d", id))
	httpx.WriteJSON(w, http.StatusCreated, t)
	return nil
}

// renameField renames a field of an invalid-input error, for an API whose
// names differ from the form's.
func renameField(err error, from, to string) error {
	e := errs.As(err)
	if e == nil || e.Code != errs.Invalid {
		return err
	}
	out := *e
	out.Fields = make([]errs.FieldError, len(e.Fields))
	for i, f := range e.Fields {
		if f.Field == from {
			f.Field = to
		}
		out.Fields[i] = f
	}
	return &out
}

// WeatherRequest is the body of POST /api/v1/monitor/weather.
type WeatherRequest struct {
	Kind      string   `json:"kind"` // cold (寒潮) or heat (高温)
	Districts []string `json:"districts"`
}

// WeatherResult is the answer of POST /api/v1/monitor/weather.
type WeatherResult struct {
	Created int `json:"created"`
}

func (h *HTTP) apiWeather(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	var req WeatherRequest
	if err := httpx.DecodeJSON(r, &req); err != nil {
		return err
	}
	n, err := h.Service.WeatherSweep(r.Context(), p, req.Kind, req.Districts)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, WeatherResult{Created: n})
	return nil
}

// CallStatList is the answer of GET /api/v1/monitor/calls/stats.
type CallStatList struct {
	Items []CallStat `json:"items"`
}

func (h *HTTP) apiCallStats(w http.ResponseWriter, r *http.Request) error {
	p, err := web.Require(r)
	if err != nil {
		return err
	}
	st, err := h.Service.CallStats(r.Context(), p)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, CallStatList{Items: st})
	return nil
}
