package main

// Configuration keys. Each is set, from highest precedence to lowest, by
// its flag, by the environment variable EGRESS_AUDIT_<KEY> (upper case),
// by the configuration file, or by its default.
const (
	keyDatacenter = "datacenter"   // string: a data center id of the catalog, or auto
	keyVantage    = "vantage"      // string: server, browser or all
	keyClients    = "clients"      // []string: CIDRs or addresses of the audited hosts
	keyKnown      = "known"        // []string: host patterns accepted as expected
	keyCatalog    = "catalog"      // string: path of a catalog file; empty for the embedded one
	keyFailOn     = "fail_on"      // []string: findings that make the exit code 1
	keyDiffFailOn = "diff_fail_on" // []string: changes that make diff's exit code 1
	keyOutput     = "output"       // string: report form
	keyFormat     = "format"       // string: input format, or empty to detect it
	keyLogLevel   = "log_level"    // string: debug, info, warn or error
	keyLogFormat  = "log_format"   // string: text or json
	keyFormats    = "formats"      // []map: configured input formats (see customFormats)
	keyTimezone   = "timezone"     // string: zone of log times that carry none: local, UTC or an IANA name
	keyProxyPorts = "proxy_ports"  // []int: ports of forward proxies a live capture keeps besides the catalog's
	keyHosts      = "hosts"        // []string: hosts files that name addresses without DNS
)

// keyCheckFailOn is a []string: findings that make check-rules' exit code 1.
const keyCheckFailOn = "check_fail_on"

// configKeys lists every key a configuration file may hold.
var configKeys = []string{
	keyDatacenter, keyVantage, keyClients, keyKnown, keyCatalog,
	keyFailOn, keyOutput, keyFormat, keyLogLevel, keyLogFormat, keyFormats,
	keyTimezone, keyDiffFailOn, keyProxyPorts, keyCheckFailOn, keyHosts,
}

// scalarKeys are the keys that hold one value, listKeys those that hold a
// list (or one value, or a comma-separated string); formats is checked by
// customFormats.
var (
	scalarKeys = []string{
		keyDatacenter, keyVantage, keyCatalog, keyOutput, keyFormat,
		keyLogLevel, keyLogFormat, keyTimezone,
	}
	listKeys = []string{keyClients, keyKnown, keyFailOn, keyDiffFailOn, keyProxyPorts, keyHosts}
)

// configName is the file looked for in the working directory, then in the
// user's configuration directory under egress-audit/.
const configName = "egress-audit.yaml"

// envPrefix prefixes the environment variables of every key.
const envPrefix = "EGRESS_AUDIT"
