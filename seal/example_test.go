package seal_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/otelaudit/otelaudit/seal"
)

func Example() {
	dir, err := os.MkdirTemp("", "seal-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// Once: the key pair ("otelaudit keygen psono-audit").
	keyPath, pubPath, err := seal.WriteKeyFiles(dir, "psono-audit")
	if err != nil {
		log.Fatal(err)
	}

	// The service: every line written to audit.log is also given to Append.
	logPath := filepath.Join(dir, "audit.log")
	s, err := seal.New(keyPath, logPath, seal.WithCheckpointFunc(func(c seal.Checkpoint) {
		fmt.Printf("checkpoint: file %d of the chain, %d lines (%s)\n", c.Tree, c.Size, c.Reason)
	}))
	if err != nil {
		log.Fatal(err)
	}
	lines := []byte("2020-05-24T07:55:41.473771 logger=restapi.views.info, user_ip=10.10.10.145, req_method=GET, req_url=/info/, success=True, hostname=0a5048185933, status=HTTP_200_OK, event=READ_INFO_SUCCESS\n" +
		"2020-05-24T07:55:42.100000 logger=restapi.views.login, user_ip=10.10.10.145, req_method=POST, req_url=/authentication/login/, success=False, hostname=0a5048185933, status=HTTP_401_UNAUTHORIZED, event=LOGIN_ERROR\n")
	if err := os.WriteFile(logPath, lines, 0o600); err != nil {
		log.Fatal(err)
	}
	s.Append(lines)
	if err := s.Close(); err != nil { // at shutdown: the last checkpoint
		log.Fatal(err)
	}

	// The auditor, with the public key only.
	pub, err := seal.LoadVerifier(pubPath)
	if err != nil {
		log.Fatal(err)
	}
	rep, err := seal.Verify([]string{logPath}, pub)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("intact:", rep.OK(), "proven lines:", rep.Files[0].Proven)
	// Output:
	// checkpoint: file 1 of the chain, 0 lines (start)
	// checkpoint: file 1 of the chain, 2 lines (close)
	// intact: true proven lines: 2
}
