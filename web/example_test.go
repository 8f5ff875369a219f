package web_test

import (
	"fmt"

	"github.com/mrtgo/mrtgo/web"
)

// The caller writes render's PNGs under the names the pages link to.
func ExampleGraphFile() {
	fmt.Println(web.DevicePage("core1"))
	fmt.Println(web.InterfacePage("core1", "ge-0/0/0"))
	fmt.Println(web.GraphFile("core1", "ge-0/0/0", "day", 1))
	fmt.Println(web.GraphFile("core1", "ge-0/0/0", "day", 2))
	fmt.Println(web.PeriodTitle("week"))
	// Output:
	// core1/index.html
	// core1/ge-0_0_0.html
	// core1/ge-0_0_0-day.png
	// core1/ge-0_0_0-day@2x.png
	// 'Weekly' Graph (30 Minute Average)
}
