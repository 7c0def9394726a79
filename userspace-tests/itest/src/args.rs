//! Command-line options: `--name value` pairs, `--flag`s and positionals.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::str::FromStr;

pub struct Args {
    values: HashMap<String, String>,
    flags: Vec<String>,
    pub positional: Vec<String>,
}

impl Args {
    /// Parses `raw`, accepting only the options in `valued` (take a value) and `flags`.
    pub fn parse(raw: &[String], valued: &[&str], flags: &[&str]) -> Result<Args, String> {
        let mut args = Args {
            values: HashMap::new(),
            flags: Vec::new(),
            positional: Vec::new(),
        };
        let mut it = raw.iter();
        while let Some(a) = it.next() {
            let Some(name) = a.strip_prefix("--") else {
                args.positional.push(a.clone());
                continue;
            };
            if flags.contains(&name) {
                args.flags.push(name.to_string());
            } else if valued.contains(&name) {
                let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                args.values.insert(name.to_string(), v.clone());
            } else {
                return Err(format!("unknown option --{name}"));
            }
        }
        Ok(args)
    }

    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    pub fn opt(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.opt(name)
            .ok_or_else(|| format!("--{name} is required"))
    }

    /// The value of `--name` parsed as `T`, or `default` if absent.
    pub fn num<T: FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.opt(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{name}: bad number {v:?}")),
        }
    }

    pub fn addr(&self) -> Result<SocketAddr, String> {
        let a = self.required("addr")?;
        let addr: SocketAddr = a
            .parse()
            .map_err(|_| format!("--addr: bad address {a:?}"))?;
        if !addr.ip().is_loopback() {
            return Err(format!(
                "--addr {addr}: only loopback addresses are allowed"
            ));
        }
        Ok(addr)
    }
}

#[cfg(test)]
mod tests {
    use super::Args;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_values_flags_and_positionals() {
        let raw = strings(&["DIR", "--addr", "127.0.0.1:1", "--list", "--secs", "5"]);
        let a = Args::parse(&raw, &["addr", "secs"], &["list"]).unwrap();
        assert_eq!(a.positional, ["DIR"]);
        assert!(a.flag("list"));
        assert_eq!(a.num("secs", 0u64), Ok(5));
        assert_eq!(a.num("clients", 7u64), Ok(7));
        assert!(a.addr().is_ok());
    }

    #[test]
    fn rejects_unknown_missing_and_remote() {
        assert!(Args::parse(&strings(&["--nope"]), &[], &[]).is_err());
        assert!(Args::parse(&strings(&["--addr"]), &["addr"], &[]).is_err());
        let a = Args::parse(&strings(&["--addr", "10.0.0.1:80"]), &["addr"], &[]).unwrap();
        assert!(a.addr().is_err());
    }
}
