package idcard_test

import (
	"errors"
	"fmt"
	"time"

	"minzheng/internal/idcard"
)

func ExampleParse() {
	today := time.Date(2026, time.November, 28, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

	// A mistyped digit: the clerk is told to check the number.
	_, err := idcard.Parse(" 31010319620110042x ", today)
	var e *idcard.Error
	if errors.As(err, &e) {
		fmt.Println(e.Code, e.Message)
	}

	id, err := idcard.Parse("31010419900307123x", today)
	if err != nil {
		fmt.Println(err)
		return
	}
	region, _ := idcard.RegionName(id.Region)
	fmt.Println(idcard.Mask(id.Number), region, id.Birth.Format(time.DateOnly), id.Male, id.Age(today))
	// Output:
	// checksum 身份证号码校验位错误：应为 5，实为 X，请逐位核对号码
	// 310104********123X 上海市徐汇区 1990-03-07 true 36
}

func ExampleMask() {
	fmt.Println(idcard.Mask("310104199003071234"))
	fmt.Println(idcard.Mask("310104900307123"))
	fmt.Println(idcard.Mask("31010419900307123")) // 17 characters: masked entirely
	// Output:
	// 310104********1234
	// 310104******123
	// *****************
}

func ExampleRegionName() {
	// 卢湾区 merged into 黄浦区 in 2011; numbers issued there keep 310103.
	fmt.Println(idcard.RegionName("310103"))
	// Output: 上海市卢湾区 true
}
