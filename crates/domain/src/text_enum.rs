//! `text_enum!`: an enum whose values have fixed lowercase names, with
//! `ALL`, `as_str`, `Display` and a `FromStr` whose error names the field and
//! lists the accepted values. The stored and wire forms of states, kinds and
//! priorities all use these names.

macro_rules! text_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal, { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::validation::ValidationError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.iter().copied().find(|value| value.as_str() == s).ok_or_else(|| {
                    let expected: Vec<&str> = $name::ALL.iter().map(|value| value.as_str()).collect();
                    $crate::validation::ValidationError::new(
                        $field,
                        format!("unknown value {s:?}; expected one of {}", expected.join(", ")),
                    )
                })
            }
        }
    };
}

pub(crate) use text_enum;
