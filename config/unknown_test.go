package config_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/otelaudit/otelaudit/config"
)

// TestMisspelledKeys checks that a key that looks like a misspelled setting,
// which would silently leave sealing, strict mode or the blacklist off, is
// an error naming the file and line (or the environment variable) and the
// setting it probably meant.
func TestMisspelledKeys(t *testing.T) {
	tests := []struct {
		key  string
		want string // in the error, after "KEY: "
	}{
		{"LOGGING_AUDIT_SEAL_KEYS", "did you mean LOGGING_AUDIT_SEAL_KEY?"},
		{"LOGGING_AUDIT_STRIKT", "did you mean LOGGING_AUDIT_STRICT?"},
		{"LOGGING_AUDIT_BLACKLSIT", "did you mean LOGGING_AUDIT_BLACKLIST?"},
		{"LOGGING_AUDIT_WHITE_LIST", "did you mean LOGGING_AUDIT_WHITELIST?"},
		{"LOGING_AUDIT", "did you mean LOGGING_AUDIT?"},
		{"LOGGING_ADUIT_FOLDER", "did you mean LOGGING_AUDIT_FOLDER?"},
		{"NUM_PROXYS", "did you mean NUM_PROXIES?"},
		{"NUM_PROXIS", "did you mean NUM_PROXIES?"},
		{"TRUSTED_IP_HEADERS", "did you mean TRUSTED_IP_HEADER?"},
		{"TRUSTED_IP_HEADER_OVERWRITTE", "did you mean TRUSTED_IP_HEADER_OVERWRITE?"},
		{"logging_audit_strict", "setting names are upper case; did you mean LOGGING_AUDIT_STRICT?"},
		{"Logging_Audit_Strikt", "did you mean LOGGING_AUDIT_STRICT?"},
		{"LOGGING_AUDIT_ENABLED", "is not a setting of the audit log, and it is ignored; the LOGGING_AUDIT settings are LOGGING_AUDIT, LOGGING_AUDIT_FOLDER,"},
		{"LOGGING_AUDIT_SEAL_KEY_FILE", "PSONO_<KEY>_FILE; set LOGGING_AUDIT_SEAL_KEY itself"},
	}
	for _, tt := range tests {
		for _, f := range []struct{ name, text string }{
			{"settings.yaml", "LOGGING_AUDIT: True\nDATABASES:\n  default: {}\n%s: True\n"},
			{"settings.toml", "LOGGING_AUDIT = true\nSECRET_KEY = 'x'\n\n%s = true\n"},
		} {
			t.Run(f.name+"/"+tt.key, func(t *testing.T) {
				path := writeFile(t, f.name, fmt.Sprintf(f.text, tt.key))
				_, err := config.Load(path)
				var e *config.Error
				if !errors.As(err, &e) || e.Source != path || e.Line != 4 || e.Key != tt.key {
					t.Fatalf("Load = %v, want an error at %s:4 for %s", err, path, tt.key)
				}
				if prefix := fmt.Sprintf("%s:4: %s: ", path, tt.key); !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("Load = %q, want it to say %q", err, tt.want)
				}
			})
		}
		t.Run("environment/"+tt.key, func(t *testing.T) {
			path := writeFile(t, "settings.yaml", "LOGGING_AUDIT: True\n")
			t.Setenv("PSONO_"+tt.key, "true")
			_, err := config.Load(path)
			var e *config.Error
			if !errors.As(err, &e) || e.Source != "environment variable PSONO_"+tt.key || e.Line != 0 || e.Key != tt.key || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Load = %v, want an error of environment variable PSONO_%s saying %q", err, tt.key, tt.want)
			}
		})
	}

	// A table header is a top-level key too.
	path := writeFile(t, "settings.toml", "LOGGING_AUDIT = true\n[LOGGING_AUDIT_STRIKT]\nx = 1\n")
	if _, err := config.Load(path); err == nil || !strings.Contains(err.Error(), "LOGGING_AUDIT_STRIKT: is not a setting") {
		t.Errorf("Load with a [LOGGING_AUDIT_STRIKT] table = %v", err)
	}
	// Keys inside the server's other settings are not settings at all.
	for name, text := range map[string]string{
		"settings.yaml": "LOGGING_AUDIT: True\nDATABASES:\n  default:\n    LOGGING_AUDIT_STRIKT: x\n",
		"settings.toml": "LOGGING_AUDIT = true\n[DATABASES.default]\nLOGGING_AUDIT_STRIKT = 'x'\n",
	} {
		if _, err := config.Load(writeFile(t, name, text)); err != nil {
			t.Errorf("Load of a nested LOGGING_AUDIT_STRIKT in %s: %v", name, err)
		}
	}
}

// psonoKeys are the keys the Psono server (community edition) reads from
// its settings file or PSONO_<KEY>, and its own PSONO_ variables; the audit
// keys come from its audit log documentation.
var psonoKeys = []string{
	"SECRET_KEY", "PRIVATE_KEY", "PUBLIC_KEY", "DEBUG", "DISABLED", "MAINTENANCE_ACTIVE",
	"ALLOWED_HOSTS", "ALLOWED_DOMAINS", "SERVICE_NAME", "ALLOW_REGISTRATION", "ALLOW_LOST_PASSWORD",
	"ENFORCE_MATCHING_USERNAME_AND_EMAIL", "ALLOWED_SECOND_FACTORS", "FAVICON_SERVICE_URL",
	"ALLOW_USER_SEARCH_BY_EMAIL", "ALLOW_USER_SEARCH_BY_USERNAME_PARTIAL",
	"DUO_INTEGRATION_KEY", "DUO_SECRET_KEY", "DUO_API_HOSTNAME", "DUO_PROXY_HOST", "DUO_PROXY_PORT",
	"DUO_PROXY_HEADERS", "DUO_PROXY_TYPE", "MULTIFACTOR_ENABLED", "REGISTRATION_EMAIL_FILTER",
	"MANAGEMENT_COMMAND_ACCESS_KEY", "ALLOWED_MANAGEMENT_COMMANDS", "HOST_URL",
	"TRUSTED_COUNTRY_HEADER", "TRUSTED_IP_HEADER", "TRUSTED_IP_HEADER_OVERWRITE", "NUM_PROXIES",
	"THROTTLE_RATE_ANON", "THROTTLE_RATE_AVATAR_IMAGE", "THROTTLE_RATE_PRE_LOGIN", "THROTTLE_RATE_LOGIN",
	"THROTTLE_RATE_LINK_SHARE_SECRET", "THROTTLE_RATE_PASSWORD", "THROTTLE_RATE_USER",
	"THROTTLE_RATE_HEALTH_CHECK", "THROTTLE_RATE_INFO", "THROTTLE_RATE_STATUS_CHECK",
	"THROTTLE_RATE_GA_VERIFY", "THROTTLE_RATE_DUO_VERIFY", "THROTTLE_RATE_YUBIKEY_OTP_VERIFY",
	"THROTTLE_RATE_IVALT_VERIFY", "THROTTLE_RATE_REGISTRATION", "THROTTLE_RATE_USER_DELETE",
	"THROTTLE_RATE_USER_UPDATE", "THROTTLE_RATE_FILESERVER_ALIVE", "THROTTLE_RATE_FILESERVER_UPLOAD",
	"THROTTLE_RATE_RATE_FILESERVER_DOWNLOAD", "DEFAULT_THROTTLE_RATES",
	"CORS_ALLOW_ALL_ORIGINS", "CORS_ALLOW_CREDENTIALS", "CORS_ALLOWED_ORIGINS", "TEMPLATES",
	"DATABASE_URL", "DATABASE_SLAVE_URL", "DATABASES", "DATABASES_DEFAULT_NAME", "DATABASES_DEFAULT_USER",
	"DATABASES_DEFAULT_PASSWORD", "DATABASES_DEFAULT_HOST", "DATABASES_DEFAULT_PORT", "DATABASES_DEFAULT_ENGINE",
	"DATABASE_POOL_ARGS_MAX_OVERFLOW", "DATABASE_POOL_ARGS_POOL_SIZE", "DATABASE_POOL_ARGS_RECYLCE",
	"DISABLE_EMAIL_NEW_LOGIN", "DISABLE_EMAIL_NEW_SHARE_CREATED", "DISABLE_EMAIL_NEW_GROUP_SHARE_CREATED",
	"DISABLE_EMAIL_NEW_GROUP_MEMBERSHIP_CREATED", "EMAIL_FROM", "EMAIL_HOST", "EMAIL_HOST_USER",
	"EMAIL_HOST_PASSWORD", "EMAIL_PORT", "EMAIL_SUBJECT_PREFIX", "EMAIL_USE_TLS", "EMAIL_USE_SSL",
	"EMAIL_SSL_CERTFILE", "EMAIL_SSL_KEYFILE", "EMAIL_TIMEOUT", "EMAIL_VERIFY_CA_FILE", "TOTP_VALID_WINDOW",
	"YUBIKEY_CLIENT_ID", "YUBIKEY_SECRET_KEY", "YUBICO_API_URLS", "IVALT_SECRET_KEY", "EMAIL_BACKEND",
	"MAILGUN_API_URL", "MAILGUN_ACCESS_KEY", "MAILGUN_SERVER_NAME", "MAILJET_API_KEY", "MAILJET_SECRET_KEY",
	"MAILJET_API_URL", "MANDRILL_API_KEY", "MANDRILL_API_URL", "POSTMARK_SERVER_TOKEN", "POSTMARK_API_URL",
	"SENDGRID_API_KEY", "SENDGRID_API_URL", "BREVO_API_KEY", "BREVO_API_URL", "SENDINBLUE_API_KEY",
	"SENDINBLUE_API_URL", "SPARKPOST_API_KEY", "SPARKPOST_API_URL", "IGNORE_UNSUPPORTED_FEATURES",
	"AMAZON_SES_CLIENT_PARAMS_ACCESS_KEY_ID", "AMAZON_SES_CLIENT_PARAMS_SECRET_ACCESS_KEY",
	"AMAZON_SES_CLIENT_PARAMS_REGION_NAME", "HEALTHCHECK_TIME_SYNC_ENABLED", "CACHE_ENABLE", "CACHE_DB",
	"CACHE_REDIS", "CACHE_REDIS_LOCATION", "THROTTLING", "DISABLE_LAST_PASSWORDS", "MANAGEMENT_ENABLED",
	"FILESERVER_HANDLER_ENABLED", "CREDIT_HANDLER_ENABLED", "FILES_ENABLED", "ALLOWED_FILE_REPOSITORY_TYPES",
	"ALLOWED_OTHER_S3_ENDPOINT_URL_PREFIX", "AVATAR_STORAGE", "AVATAR_STORAGE_PREFIX", "AVATAR_DIMENSION_X",
	"AVATAR_DIMENSION_Y", "AVATAR_MAX_SIZE_KB", "FILESERVER_ALIVE_TIMEOUT", "AUTH_KEY_LENGTH_BYTES",
	"USER_PRIVATE_KEY_LENGTH_BYTES", "USER_PUBLIC_KEY_LENGTH_BYTES", "USER_SECRET_KEY_LENGTH_BYTES",
	"NONCE_LENGTH_BYTES", "ACTIVATION_LINK_SECRET", "WEB_CLIENT_URL", "DB_SECRET", "EMAIL_SECRET_SALT",
	"ACTIVATION_LINK_TIME_VALID", "DEFAULT_TOKEN_TIME_VALID", "MAX_WEB_TOKEN_TIME_VALID",
	"MAX_APP_TOKEN_TIME_VALID", "MAX_API_KEY_TOKEN_TIME_VALID", "MIN_WEB_TOKEN_TIME_VALID",
	"MIN_APP_TOKEN_TIME_VALID", "MIN_API_KEY_TOKEN_TIME_VALID", "RECOVERY_VERIFIER_TIME_VALID",
	"REPLAY_PROTECTION_DISABLED", "DEVICE_PROTECTION_DISABLED", "REPLAY_PROTECTION_TIME_DFFERENCE",
	"DISABLE_CENTRAL_SECURITY_REPORTS", "DISABLE_CALLBACKS", "ALLOWED_CALLBACK_URL_PREFIX",
	"ALLOW_MULTIPLE_SESSIONS", "AUTO_PROLONGATION_TOKEN_TIME_VALID", "SECURE_PROXY_SSL_HEADER",
	"SHARD_CREDIT_BUY_ADDRESS", "SHARD_CREDIT_DEFAULT_NEW_USER", "SHARD_CREDIT_COSTS_UPLOAD",
	"SHARD_CREDIT_COSTS_DOWNLOAD", "SHARD_CREDIT_COSTS_STORAGE", "TIME_SERVER", "AUTHENTICATION_METHODS",
	"URL_PREFIX", "SENTRY_DSN", "SENTRY_ENVIRONMENT",
	"LOGGING_AUDIT", "LOGGING_AUDIT_FOLDER", "LOGGING_AUDIT_TIME", "LOGGING_AUDIT_WHITELIST", "LOGGING_AUDIT_BLACKLIST",
}

// TestPsonoKeysAreLegal checks that no key of Psono's own is taken for a
// misspelled setting: in a settings file, and as PSONO_<KEY> together with
// Psono's own PSONO_ variables.
func TestPsonoKeysAreLegal(t *testing.T) {
	var yaml, toml strings.Builder
	for _, k := range psonoKeys {
		fmt.Fprintf(&yaml, "%s: null\n", k) // null: the default of a setting
		if !isSetting(k) {
			fmt.Fprintf(&toml, "%s = 'x'\n", k)
		}
	}
	if _, err := config.Parse("settings.yaml", []byte(yaml.String())); err != nil {
		t.Errorf("Parse of Psono's keys: %v", err)
	}
	if _, err := config.ParseTOML("settings.toml", []byte(toml.String())); err != nil {
		t.Errorf("ParseTOML of Psono's keys: %v", err)
	}

	path := writeFile(t, "settings.yaml", "LOGGING_AUDIT: True\n")
	for _, k := range psonoKeys {
		if isSetting(k) {
			continue
		}
		t.Setenv("PSONO_"+k, "x")
		t.Setenv("PSONO_"+k+"_FILE", "/run/secrets/x") // Psono reads some keys from files
	}
	t.Setenv("PSONO_HOME", t.TempDir())
	t.Setenv("PSONO_SERVER_SETTING_BASE64", "")
	t.Setenv("PSONO_SERVER_SETTING_TOML_BASE64", "")
	t.Setenv("PSONO_NUM_PROXIES", "1")
	t.Setenv("PSONO_TRUSTED_IP_HEADER", "HTTP_X_REAL_IP")
	t.Setenv("PSONO_TRUSTED_IP_HEADER_OVERWRITE", "HTTP_CF_CONNECTING_IP")
	if _, err := config.Load(path); err != nil {
		t.Errorf("Load with Psono's PSONO_ variables: %v", err)
	}
}

// isSetting says whether key is one of the audit log's settings, which take
// values of their own.
func isSetting(key string) bool {
	return strings.HasPrefix(key, "LOGGING_AUDIT") || key == "NUM_PROXIES" || strings.HasPrefix(key, "TRUSTED_IP_HEADER")
}
