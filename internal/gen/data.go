package gen

import "unicode/utf8"

// This file holds the static tables the generator draws from. Every figure
// is explained, with its source, in CALIBRATION.md.

// districtInfo is one of Shanghai's 16 districts with its share of the
// resident population (2020 census, 万人).
type districtInfo struct {
	code  string
	name  string
	pop   float64 // resident population, 10,000 persons (七普 2020)
	roads string  // a few real road names of the district, for addresses
}

// districts lists Shanghai's districts. Committees of districts not listed
// here get the average weight (see New).
var districts = []districtInfo{
	{"310101", "黄浦区", 66.21, "南京东路 淮海中路 复兴中路 西藏南路 河南南路 陆家浜路"},
	{"310104", "徐汇区", 111.31, "漕溪北路 天钥桥路 肇嘉浜路 钦州路 桂林路 龙华西路"},
	{"310105", "长宁区", 69.31, "天山路 仙霞路 延安西路 愚园路 古北路 哈密路"},
	{"310106", "静安区", 97.57, "南京西路 共和新路 万荣路 临汾路 西藏北路 彭江路"},
	{"310107", "普陀区", 123.98, "曹杨路 长寿路 武宁路 真北路 铜川路 桃浦路"},
	{"310109", "虹口区", 75.74, "四川北路 曲阳路 凉城路 大连西路 广中路 水电路"},
	{"310110", "杨浦区", 124.26, "四平路 控江路 延吉中路 长白路 国和路 殷行路"},
	{"310112", "闵行区", 265.35, "莘松路 七莘路 都市路 古美路 浦锦路 江川路"},
	{"310113", "宝山区", 223.52, "牡丹江路 友谊路 沪太路 共康路 杨行路 顾村路"},
	{"310114", "嘉定区", 183.43, "城中路 塔城路 博乐路 曹安公路 墨玉路 沪宜公路"},
	{"310115", "浦东新区", 568.15, "张杨路 浦东南路 杨高南路 锦绣路 川沙路 惠南镇人民东路"},
	{"310116", "金山区", 82.28, "卫零路 蒙山路 龙航路 金山大道 朱泾镇人民路 枫泾镇亭枫公路"},
	{"310117", "松江区", 190.97, "中山中路 荣乐中路 人民北路 九亭大街 泗泾镇江川北路 新松江路"},
	{"310118", "青浦区", 127.14, "公园路 城中北路 外青松公路 朱家角镇祥凝浜路 徐泾镇高泾路 华青路"},
	{"310120", "奉贤区", 114.09, "南桥路 解放东路 金海公路 奉城镇南港路 贤浦路 江海路"},
	{"310151", "崇明区", 63.79, "八一路 人民路 城桥镇东门路 堡镇南路 长兴镇凤凰路 新河镇新开河路"},
}

// historicRegion is an ID-number region code of a district that was merged
// away; people born before the merger may still carry it.
type historicRegion struct {
	district string  // today's district code
	code     string  // the old code
	until    int     // the old code was given to people born before this year
	share    float64 // share of today's district registered people born before until with the old code
}

// historicRegions are the three historic codes the brief allows.
var historicRegions = []historicRegion{
	{"310101", "310103", 2011, 0.30}, // 卢湾区, merged into 黄浦区 in 2011
	{"310106", "310108", 2015, 0.60}, // 闸北区, merged into 静安区 in 2015
	{"310151", "310230", 2017, 0.95}, // 崇明县, became 崇明区 in 2016
}

// province is where non-Shanghai-hukou members come from: real 6-digit
// county-level region codes and a weight.
type province struct {
	name    string
	weight  float64 // share of Shanghai's non-local residents, percent (estimate, see CALIBRATION.md)
	regions []string
}

var provinces = []province{
	{"安徽", 23, []string{"340104", "340202", "341202", "340321"}}, // 合肥蜀山, 芜湖镜湖, 阜阳颍州, 怀远县
	{"江苏", 15, []string{"320102", "320583", "321002", "320902"}}, // 南京玄武, 昆山, 扬州广陵, 盐城亭湖
	{"河南", 11, []string{"410102", "411502", "411302"}},           // 郑州中原, 信阳浉河, 南阳宛城
	{"四川", 7, []string{"510107", "511302"}},                      // 成都武侯, 南充顺庆
	{"江西", 7, []string{"360102", "361002"}},                      // 南昌东湖, 抚州临川
	{"浙江", 7, []string{"330106", "330203", "330302"}},            // 杭州西湖, 宁波海曙, 温州鹿城
	{"山东", 6, []string{"370102", "370202"}},                      // 济南历下, 青岛市南
	{"湖北", 6, []string{"420106"}},                                // 武汉武昌
	{"湖南", 4, []string{"430104"}},                                // 长沙岳麓
	{"福建", 3, []string{"350102"}},                                // 福州鼓楼
	{"黑龙江", 3, []string{"230103"}},                               // 哈尔滨南岗
}

// surnameTable lists common surnames with their approximate national share
// in percent and a Shanghai multiplier (estimate) for surnames that are
// markedly more (or less) common among Shanghai natives.
var surnameTable = []struct {
	name     string
	national float64
	shanghai float64 // multiplier for Shanghai-hukou people; 0 means 1
}{
	{"王", 7.12, 1.0}, {"李", 7.00, 0.7}, {"张", 6.74, 1.2}, {"刘", 5.38, 0.5}, {"陈", 4.53, 1.3},
	{"杨", 3.08, 0.9}, {"黄", 2.23, 1.1}, {"赵", 2.29, 0.6}, {"吴", 2.05, 1.3}, {"周", 2.12, 1.5},
	{"徐", 1.67, 2.0}, {"孙", 1.54, 1.0}, {"马", 1.05, 0.6}, {"朱", 1.26, 2.0}, {"胡", 1.31, 1.0},
	{"郭", 1.15, 0.6}, {"何", 1.17, 1.0}, {"林", 1.18, 0.9}, {"高", 1.21, 0.7}, {"罗", 0.86, 0.6},
	{"郑", 0.78, 0.9}, {"梁", 0.75, 0.6}, {"谢", 0.72, 0.9}, {"宋", 0.70, 0.8}, {"唐", 0.65, 1.2},
	{"许", 0.64, 1.3}, {"韩", 0.62, 0.7}, {"冯", 0.61, 0.8}, {"邓", 0.60, 0.6}, {"曹", 0.59, 1.3},
	{"彭", 0.55, 0.7}, {"曾", 0.55, 0.5}, {"肖", 0.54, 0.5}, {"田", 0.52, 0.6}, {"董", 0.51, 1.0},
	{"袁", 0.50, 1.1}, {"潘", 0.49, 1.5}, {"于", 0.48, 0.6}, {"蒋", 0.47, 2.0}, {"蔡", 0.46, 1.5},
	{"余", 0.45, 1.0}, {"杜", 0.44, 0.8}, {"叶", 0.43, 1.5}, {"程", 0.42, 1.0}, {"苏", 0.41, 1.0},
	{"魏", 0.40, 0.8}, {"吕", 0.39, 1.0}, {"丁", 0.38, 1.5}, {"任", 0.37, 0.8}, {"沈", 0.36, 4.0},
	{"姚", 0.35, 2.5}, {"卢", 0.34, 0.8}, {"姜", 0.33, 0.8}, {"崔", 0.32, 0.5}, {"钟", 0.31, 0.8},
	{"谭", 0.30, 0.5}, {"陆", 0.30, 4.0}, {"汪", 0.29, 1.5}, {"范", 0.29, 1.5}, {"金", 0.28, 3.0},
	{"石", 0.28, 0.8}, {"廖", 0.27, 0.5}, {"贾", 0.27, 0.5}, {"夏", 0.26, 1.5}, {"韦", 0.26, 0.3},
	{"付", 0.25, 0.5}, {"方", 0.25, 1.5}, {"白", 0.24, 0.5}, {"邹", 0.24, 1.0}, {"孟", 0.23, 0.6},
	{"熊", 0.23, 0.6}, {"秦", 0.22, 1.2}, {"邱", 0.22, 1.0}, {"江", 0.21, 1.2}, {"尹", 0.21, 0.8},
	{"薛", 0.20, 1.2}, {"闫", 0.20, 0.4}, {"段", 0.19, 0.5}, {"雷", 0.19, 0.5}, {"侯", 0.18, 0.6},
	{"龙", 0.18, 0.4}, {"史", 0.17, 1.2}, {"陶", 0.17, 1.5}, {"黎", 0.16, 0.4}, {"贺", 0.16, 0.8},
	{"顾", 0.16, 6.0}, {"毛", 0.15, 1.5}, {"郝", 0.15, 0.5}, {"龚", 0.14, 3.0}, {"邵", 0.14, 2.0},
	{"万", 0.13, 1.0}, {"钱", 0.13, 4.0}, {"严", 0.13, 2.5}, {"覃", 0.12, 0.2}, {"武", 0.12, 0.5},
	{"戴", 0.12, 2.0}, {"莫", 0.11, 1.0}, {"孔", 0.11, 1.0}, {"向", 0.11, 0.5}, {"汤", 0.10, 2.0},
	{"施", 0.08, 5.0}, {"俞", 0.08, 4.0}, {"倪", 0.07, 3.0}, {"瞿", 0.03, 6.0}, {"奚", 0.02, 6.0},
}

// Given-name characters by era of birth and sex. Older people's names carry
// the virtues and revolutionary words of their time (英, 秀, 珍, 国, 华, 建),
// younger ones the fashionable characters of the 2000s (梓, 涵, 浩, 宇, 欣).
const (
	eraOld    = iota // born before 1960
	eraMiddle        // 1960–1984
	eraYoung         // 1985–2004
	eraChild         // 2005 and later
	eraCount
)

var givenChars = [eraCount][2]string{
	// {female, male}
	eraOld:    {"英秀珍兰芳凤玉美妹娣琴菊金梅萍华翠娟莉桂彩云月爱芬素红宝雅惠", "国建华明伟忠德福根荣林海金宝兴昌志文新民祥发永生康龙贵富庆才春"},
	eraMiddle: {"丽红敏燕静萍芳琳洁霞英华玲艳慧雯婷莉颖娟倩蓉琴虹晓云佳惠青", "伟强军勇斌杰磊涛明华平刚峰敏俊建志东海波辉鹏飞亮毅宏卫忠国"},
	eraYoung:  {"婷佳怡雯静琳倩雪晶颖敏丹燕洁欣诗蕾悦慧思媛瑶琪晨蓓菁莹丽", "杰磊浩俊晨鹏宇超文轩翔昊天佳伟斌博凯峰旭诚毅涛骏豪皓逸嘉"},
	eraChild:  {"梓涵欣可雨诗子语思悦若彤怡一佳萱琪妍晨馨安乐沐依菲歆", "梓浩宇轩子涵睿辰俊博泽铭奕一晨航皓嘉逸煜宸杨锦瑞昊霖"},
}

// givenRunes holds givenChars split into one-character strings,
// [era][female=0/male=1][i].
var givenRunes = func() (t [eraCount][2][]string) {
	for e := range givenChars {
		for s := range 2 {
			str := givenChars[e][s]
			for len(str) > 0 {
				_, n := utf8.DecodeRuneInString(str)
				t[e][s] = append(t[e][s], str[:n])
				str = str[n:]
			}
		}
	}
	return t
}()

// singleNameShare is the share of one-character given names by era
// (estimate; single names peaked among people born in the 1980s–90s).
var singleNameShare = [eraCount]float64{0.25, 0.30, 0.35, 0.12}

// eraOf returns the naming era of a birth year.
func eraOf(year int) int {
	switch {
	case year < 1960:
		return eraOld
	case year < 1985:
		return eraMiddle
	case year < 2005:
		return eraYoung
	}
	return eraChild
}
