package psono_test

import (
	"fmt"

	"github.com/otelaudit/otelaudit/psono"
)

func ExampleParse() {
	l, err := psono.Parse(`2020-05-24T07:55:37.720973 logger=restapi.views.info, user_ip=10.10.10.145, req_method=GET, req_url="/a path/", success=True, hostname=0a5048185933, status=HTTP_200_OK, event=READ_INFO_SUCCESS`)
	if err != nil {
		panic(err)
	}
	url, _ := l.Get("req_url")
	fmt.Println(l.Time, len(l.Pairs), url)
	// Output: 2020-05-24T07:55:37.720973 8 /a path/
}

func ExampleAppendValue() {
	for _, v := range []string{"plain", "a b", `say "hi"`, "forged\n2020-01-01T00:00:00 logger=x"} {
		fmt.Println(string(psono.AppendValue(nil, v)))
	}
	// Output:
	// plain
	// "a b"
	// "say \"hi\""
	// "forged\n2020-01-01T00:00:00 logger=x"
}

func ExampleStatusName() {
	fmt.Println(psono.StatusName(413), psono.StatusName(299))
	// Output: HTTP_413_REQUEST_ENTITY_TOO_LARGE HTTP_299
}
