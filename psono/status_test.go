package psono_test

import (
	"testing"

	"github.com/otelaudit/otelaudit/psono"
)

func TestStatusName(t *testing.T) {
	tests := []struct {
		code int
		want string
	}{
		{200, "HTTP_200_OK"},
		{201, "HTTP_201_CREATED"},
		{403, "HTTP_403_FORBIDDEN"},
		{405, "HTTP_405_METHOD_NOT_ALLOWED"},
		{413, "HTTP_413_REQUEST_ENTITY_TOO_LARGE"},
		{414, "HTTP_414_REQUEST_URI_TOO_LONG"},
		{418, "HTTP_418_IM_A_TEAPOT"},
		{422, "HTTP_422_UNPROCESSABLE_ENTITY"},
		{500, "HTTP_500_INTERNAL_SERVER_ERROR"},
		{511, "HTTP_511_NETWORK_AUTHENTICATION_REQUIRED"},
		{299, "HTTP_299"},
		{599, "HTTP_599"},
		{999, "HTTP_999"},
	}
	for _, tt := range tests {
		if got := psono.StatusName(tt.code); got != tt.want {
			t.Errorf("StatusName(%d) = %s, want %s", tt.code, got, tt.want)
		}
		if got := string(psono.AppendStatusName(nil, tt.code)); got != tt.want {
			t.Errorf("AppendStatusName(%d) = %s, want %s", tt.code, got, tt.want)
		}
		if code, ok := psono.ParseStatusName(tt.want); !ok || code != tt.code {
			t.Errorf("ParseStatusName(%s) = %d, %v", tt.want, code, ok)
		}
	}
	for _, bad := range []string{"", "HTTP_", "HTTP_2", "HTTP_200_NOPE", "200", "HTTP_abc_OK"} {
		if code, ok := psono.ParseStatusName(bad); ok {
			t.Errorf("ParseStatusName(%q) = %d, true; want false", bad, code)
		}
	}
}
