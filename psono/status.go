package psono

import (
	"strconv"
	"strings"
)

// drfNames holds the Django REST framework constant names
// (rest_framework.status) for every code DRF defines. DRF's list is its own:
// it keeps older reason phrases (413 REQUEST_ENTITY_TOO_LARGE, 414
// REQUEST_URI_TOO_LONG, 422 UNPROCESSABLE_ENTITY) where Go's http.StatusText
// has moved on.
var drfNames = map[int]string{
	100: "HTTP_100_CONTINUE",
	101: "HTTP_101_SWITCHING_PROTOCOLS",
	102: "HTTP_102_PROCESSING",
	103: "HTTP_103_EARLY_HINTS",
	200: "HTTP_200_OK",
	201: "HTTP_201_CREATED",
	202: "HTTP_202_ACCEPTED",
	203: "HTTP_203_NON_AUTHORITATIVE_INFORMATION",
	204: "HTTP_204_NO_CONTENT",
	205: "HTTP_205_RESET_CONTENT",
	206: "HTTP_206_PARTIAL_CONTENT",
	207: "HTTP_207_MULTI_STATUS",
	208: "HTTP_208_ALREADY_REPORTED",
	226: "HTTP_226_IM_USED",
	300: "HTTP_300_MULTIPLE_CHOICES",
	301: "HTTP_301_MOVED_PERMANENTLY",
	302: "HTTP_302_FOUND",
	303: "HTTP_303_SEE_OTHER",
	304: "HTTP_304_NOT_MODIFIED",
	305: "HTTP_305_USE_PROXY",
	306: "HTTP_306_RESERVED",
	307: "HTTP_307_TEMPORARY_REDIRECT",
	308: "HTTP_308_PERMANENT_REDIRECT",
	400: "HTTP_400_BAD_REQUEST",
	401: "HTTP_401_UNAUTHORIZED",
	402: "HTTP_402_PAYMENT_REQUIRED",
	403: "HTTP_403_FORBIDDEN",
	404: "HTTP_404_NOT_FOUND",
	405: "HTTP_405_METHOD_NOT_ALLOWED",
	406: "HTTP_406_NOT_ACCEPTABLE",
	407: "HTTP_407_PROXY_AUTHENTICATION_REQUIRED",
	408: "HTTP_408_REQUEST_TIMEOUT",
	409: "HTTP_409_CONFLICT",
	410: "HTTP_410_GONE",
	411: "HTTP_411_LENGTH_REQUIRED",
	412: "HTTP_412_PRECONDITION_FAILED",
	413: "HTTP_413_REQUEST_ENTITY_TOO_LARGE",
	414: "HTTP_414_REQUEST_URI_TOO_LONG",
	415: "HTTP_415_UNSUPPORTED_MEDIA_TYPE",
	416: "HTTP_416_REQUESTED_RANGE_NOT_SATISFIABLE",
	417: "HTTP_417_EXPECTATION_FAILED",
	418: "HTTP_418_IM_A_TEAPOT",
	421: "HTTP_421_MISDIRECTED_REQUEST",
	422: "HTTP_422_UNPROCESSABLE_ENTITY",
	423: "HTTP_423_LOCKED",
	424: "HTTP_424_FAILED_DEPENDENCY",
	425: "HTTP_425_TOO_EARLY",
	426: "HTTP_426_UPGRADE_REQUIRED",
	428: "HTTP_428_PRECONDITION_REQUIRED",
	429: "HTTP_429_TOO_MANY_REQUESTS",
	431: "HTTP_431_REQUEST_HEADER_FIELDS_TOO_LARGE",
	451: "HTTP_451_UNAVAILABLE_FOR_LEGAL_REASONS",
	500: "HTTP_500_INTERNAL_SERVER_ERROR",
	501: "HTTP_501_NOT_IMPLEMENTED",
	502: "HTTP_502_BAD_GATEWAY",
	503: "HTTP_503_SERVICE_UNAVAILABLE",
	504: "HTTP_504_GATEWAY_TIMEOUT",
	505: "HTTP_505_HTTP_VERSION_NOT_SUPPORTED",
	506: "HTTP_506_VARIANT_ALSO_NEGOTIATES",
	507: "HTTP_507_INSUFFICIENT_STORAGE",
	508: "HTTP_508_LOOP_DETECTED",
	509: "HTTP_509_BANDWIDTH_LIMIT_EXCEEDED",
	510: "HTTP_510_NOT_EXTENDED",
	511: "HTTP_511_NETWORK_AUTHENTICATION_REQUIRED",
}

// statusTable is drfNames indexed by code, so that the exporter's hot path
// does a slice lookup instead of a map lookup.
var statusTable = func() (t [600]string) {
	for code, name := range drfNames {
		t[code] = name
	}
	return t
}()

// StatusName returns the Django REST framework constant name of an HTTP
// status code, such as "HTTP_200_OK" for 200. For a code DRF does not name it
// returns "HTTP_" followed by the code in decimal, such as "HTTP_299".
func StatusName(code int) string {
	if code >= 0 && code < len(statusTable) && statusTable[code] != "" {
		return statusTable[code]
	}
	return "HTTP_" + strconv.Itoa(code)
}

// AppendStatusName appends StatusName(code) to dst without allocating.
func AppendStatusName(dst []byte, code int) []byte {
	if code >= 0 && code < len(statusTable) && statusTable[code] != "" {
		return append(dst, statusTable[code]...)
	}
	return strconv.AppendInt(append(dst, "HTTP_"...), int64(code), 10)
}

// ParseStatusName returns the code a status name stands for: 200 for
// "HTTP_200_OK" and for "HTTP_200". It reports false when name is not of that
// form.
func ParseStatusName(name string) (int, bool) {
	rest, ok := strings.CutPrefix(name, "HTTP_")
	if !ok || len(rest) < 3 {
		return 0, false
	}
	digits := rest
	if i := strings.IndexByte(rest, '_'); i >= 0 {
		digits = rest[:i]
	}
	code, err := strconv.Atoi(digits)
	if err != nil || code < 0 {
		return 0, false
	}
	if len(digits) != len(rest) && StatusName(code) != name {
		return 0, false
	}
	return code, true
}
