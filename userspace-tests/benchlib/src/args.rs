//! A small command-line parser: `--name value`, `--name=value`, flags and positionals.

use std::str::FromStr;

/// Arguments left to be taken; whatever is not taken is reported by [`Args::finish`].
pub struct Args {
    items: Vec<String>,
}

impl Args {
    /// Takes the process arguments, without the program name.
    pub fn from_env() -> Self {
        Self::from_vec(std::env::args().skip(1).collect())
    }

    pub fn from_vec(items: Vec<String>) -> Self {
        Args { items }
    }

    /// Removes `name` (any of its spellings) if present; true when it was there.
    pub fn flag(&mut self, names: &[&str]) -> bool {
        let before = self.items.len();
        self.items.retain(|item| !names.contains(&item.as_str()));
        before != self.items.len()
    }

    /// Removes every `name value` / `name=value` and returns the values in order.
    pub fn values(&mut self, names: &[&str]) -> Result<Vec<String>, String> {
        let mut found = Vec::new();
        let mut index = 0;
        while index < self.items.len() {
            let item = &self.items[index];
            if names.contains(&item.as_str()) {
                if index + 1 >= self.items.len() {
                    return Err(format!("{item} needs a value"));
                }
                found.push(self.items.remove(index + 1));
                self.items.remove(index);
                continue;
            }
            let inline = names.iter().find_map(|name| {
                item.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('='))
                    .filter(|_| name.starts_with("--"))
            });
            if let Some(value) = inline {
                found.push(value.to_string());
                self.items.remove(index);
                continue;
            }
            index += 1;
        }
        Ok(found)
    }

    /// The last value given for `names`, parsed; `None` when absent.
    pub fn opt<T: FromStr>(&mut self, names: &[&str]) -> Result<Option<T>, String> {
        match self.values(names)?.pop() {
            None => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| format!("{}: invalid value {text:?}", names[0])),
        }
    }

    /// Like [`Args::opt`] with a default.
    pub fn get<T: FromStr>(&mut self, names: &[&str], default: T) -> Result<T, String> {
        Ok(self.opt(names)?.unwrap_or(default))
    }

    /// Ends parsing: returns the positionals, or an error naming an unknown option.
    pub fn finish(self) -> Result<Vec<String>, String> {
        match self
            .items
            .iter()
            .find(|item| item.starts_with('-') && item.len() > 1)
        {
            Some(unknown) => Err(format!("unknown option {unknown} (see --help)")),
            None => Ok(self.items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Args {
        Args::from_vec(list.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn takes_values_flags_and_positionals() {
        let mut a = args(&["-c", "8", "--keepalive", "--n=5", "http://x/", "-c", "9"]);
        assert!(a.flag(&["-k", "--keepalive"]));
        assert_eq!(a.get(&["-c"], 1u32), Ok(9));
        assert_eq!(a.get(&["-n", "--n"], 0u32), Ok(5));
        assert_eq!(a.finish(), Ok(vec!["http://x/".to_string()]));
    }

    #[test]
    fn reports_missing_bad_and_unknown() {
        assert!(args(&["-c"]).values(&["-c"]).is_err());
        assert!(args(&["-c", "x"]).get(&["-c"], 1u32).is_err());
        assert!(args(&["--what"]).finish().is_err());
    }
}
