//! `#[tokio_leakcheck::test]`: `#[tokio::test]`, with a leak check after the body.
//!
//! Use it through the `tokio-leakcheck` crate, which re-exports it as
//! `tokio_leakcheck::test` and documents its options. This crate only rewrites
//!
//! ```text
//! #[tokio_leakcheck::test(settle_ms = 50)]
//! async fn serves_one_client() { body }
//! ```
//!
//! into a plain `#[test]` that hands the body to a `Detector`:
//!
//! ```text
//! #[test]
//! fn serves_one_client() {
//!     tokio_leakcheck::Detector::current_thread()
//!         .root(env!("CARGO_MANIFEST_DIR"))
//!         .settle(Duration::from_millis(50))
//!         .verify_none(move || async move { body })
//! }
//! ```

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as Tokens};
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitBool, LitInt, LitStr, Path};

/// Runs an async test on a runtime the leak detector watches, and fails it with the
/// list of tasks still alive when the body has returned. See `tokio_leakcheck::test`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut options = Options::default();
    let parser = syn::meta::parser(|meta| options.parse(meta));
    if let Err(error) = syn::parse::Parser::parse(parser, args) {
        return error.to_compile_error().into();
    }
    let function = match syn::parse::<ItemFn>(item) {
        Ok(function) => function,
        Err(error) => return error.to_compile_error().into(),
    };
    match expand(options, function) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

#[derive(Default)]
struct Options {
    multi_thread: Option<Span>,
    worker_threads: Option<LitInt>,
    start_paused: Option<LitBool>,
    settle_ms: Option<LitInt>,
    ignore: Vec<LitStr>,
    runtime: Option<Path>,
    krate: Option<Path>,
}

impl Options {
    fn parse(&mut self, meta: syn::meta::ParseNestedMeta) -> syn::Result<()> {
        let name = meta.path.get_ident().map(ToString::to_string).unwrap_or_default();
        match name.as_str() {
            "flavor" => {
                let flavor: LitStr = meta.value()?.parse()?;
                match flavor.value().as_str() {
                    "current_thread" => self.multi_thread = None,
                    "multi_thread" => self.multi_thread = Some(flavor.span()),
                    other => {
                        return Err(syn::Error::new(
                            flavor.span(),
                            format!("unknown flavor `{other}`: use \"current_thread\" or \"multi_thread\""),
                        ));
                    }
                }
            }
            "worker_threads" => self.worker_threads = Some(meta.value()?.parse()?),
            "start_paused" => self.start_paused = Some(meta.value()?.parse()?),
            "settle_ms" => self.settle_ms = Some(meta.value()?.parse()?),
            "ignore" => self.ignore.push(meta.value()?.parse()?),
            "runtime" => self.runtime = Some(meta.value()?.parse()?),
            "crate" => {
                let path: LitStr = meta.value()?.parse()?;
                self.krate = Some(path.parse()?);
            }
            _ => {
                return Err(meta.error(
                    "unknown option: expected flavor, worker_threads, start_paused, settle_ms, \
                     ignore, runtime or crate",
                ));
            }
        }
        Ok(())
    }
}

fn expand(options: Options, function: ItemFn) -> syn::Result<Tokens> {
    let ItemFn {
        attrs,
        vis,
        sig,
        block,
        ..
    } = function;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            "#[tokio_leakcheck::test] goes on an `async fn`",
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(sig.inputs.span(), "a test takes no arguments"));
    }
    // A bare `#[should_panic]` passes on any panic, a runtime that could not even start
    // included: a test that expects a leak must say which words of the report it expects.
    for attr in &attrs {
        if attr.path().is_ident("should_panic") && matches!(attr.meta, syn::Meta::Path(_)) {
            return Err(syn::Error::new(
                attr.span(),
                "a bare #[should_panic] passes on any panic (a runtime that fails to start, \
                 an unwrap): say what you expect, e.g. #[should_panic(expected = \"still alive\")]",
            ));
        }
    }
    let krate = options
        .krate
        .clone()
        .unwrap_or_else(|| syn::parse_quote!(::tokio_leakcheck));
    let detector = match (options.multi_thread, &options.worker_threads) {
        (Some(_), Some(workers)) => quote! { #krate::Detector::multi_thread(#workers) },
        (Some(span), None) => quote_spanned! {span=> #krate::Detector::multi_thread(2) },
        (None, Some(workers)) => {
            return Err(syn::Error::new(
                workers.span(),
                "worker_threads needs flavor = \"multi_thread\"",
            ));
        }
        (None, None) => quote! { #krate::Detector::current_thread() },
    };
    let mut calls = Vec::new();
    if let Some(paused) = &options.start_paused {
        if let Some(span) = options.multi_thread.filter(|_| paused.value) {
            return Err(syn::Error::new(
                span,
                "start_paused needs the current_thread flavor (tokio's paused clock runs only there)",
            ));
        }
        if paused.value {
            calls.push(quote_spanned! {paused.span()=>
                .configure(|builder| { builder.start_paused(true); })
            });
        }
    }
    if let Some(ms) = &options.settle_ms {
        calls.push(quote! { .settle(::core::time::Duration::from_millis(#ms)) });
    }
    for pattern in &options.ignore {
        calls.push(quote! { .ignore(#pattern) });
    }
    if let Some(runtime) = &options.runtime {
        calls.push(quote! { .configure(#runtime) });
    }
    let mut sig = sig;
    sig.asyncness = None;
    let has_test_attr = attrs.iter().any(|a| a.path().is_ident("test"));
    let test_attr = (!has_test_attr).then(|| quote! { #[::core::prelude::v1::test] });
    Ok(quote! {
        #(#attrs)*
        #test_attr
        #vis #sig {
            #detector
                .root(::core::env!("CARGO_MANIFEST_DIR"))
                #(#calls)*
                .verify_none(move || async move #block)
        }
    })
}
