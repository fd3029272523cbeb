# Helpers for the FunnelPlotR reference generators (our own code).
# Usage: Rscript gen_funnel.R /path/to/FunnelPlotR/R
# The folder must hold these unmodified files of FunnelPlotR 0.6.0 (see ../README.md):
# aggregate_func.R build_limits_lookup.R calculate_limits.R classes_methods.R
# funnel_plot.R od_adjustment.R outliers_func.R
suppressMessages({library(rlang); library(jsonlite)})
invisible(Sys.setlocale("LC_COLLATE", "C"))  # group order = code-point order, as in Python
pkg_dir <- commandArgs(trailingOnly = TRUE)[1]
if (is.na(pkg_dir)) stop("give the folder holding FunnelPlotR's R files")
for (f in c("aggregate_func.R", "build_limits_lookup.R", "calculate_limits.R",
            "classes_methods.R", "funnel_plot.R", "od_adjustment.R", "outliers_func.R"))
  source(file.path(pkg_dir, f))
# Plotting is left out: draw_plot.R and funnel_themes.R are not sourced.
draw_plot <- function(...) NULL
funnel_clean <- function(...) NULL
# The validator's first check is ggplot2::is_ggplot(plot) (ggplot2 >= 3.5.2); with no plot
# it is dropped. The other checks are kept.
stopifnot(grepl("is_ggplot", deparse(body(validate_funnel_plot)[[2]])[1]))
body(validate_funnel_plot)[[2]] <- NULL

N <- function(v) {  # numbers as JSON text, %.17g; Inf as "Infinity" strings, NA/NaN as null
  v <- as.numeric(v)
  out <- ifelse(is.na(v), "null", ifelse(is.infinite(v), ifelse(v > 0, '"Infinity"', '"-Infinity"'),
                                           sprintf("%.17g", v)))
  structure(paste0("[", paste(out, collapse = ","), "]"), class = "json")
}
N1 <- function(x) structure(substring(N(x), 2, nchar(N(x)) - 1), class = "json")

cases <- list(); errors <- list(); roundings <- list()

# Calls funnel_plot() once per limit (95, 99) and records what it returns.
run_fp <- function(d, limit, a) {
  # build_limits_lookup() calls set.seed(1); keep the generator's own random stream going.
  seed <- get(".Random.seed", envir = globalenv())
  on.exit(assign(".Random.seed", seed, envir = globalenv()))
  msgs <- character(0); warns <- character(0)
  fp <- withCallingHandlers(
    funnel_plot(d, numerator = num, denominator = den, group = grp, data_type = a$data_type,
                limit = limit, label = NA, draw_unadjusted = a$unadjusted,
                draw_adjusted = a$adjusted, sr_method = a$sr_method, trim_by = a$trim_by,
                multiplier = a$multiplier, SHMI_rounding = a$shmi_rounding),
    message = function(m) { msgs <<- c(msgs, conditionMessage(m)); invokeRestart("muffleMessage") },
    warning = function(w) { warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning") })
  list(fp = fp, messages = sub("\n$", "", msgs), warnings = warns)
}

lookup_rows <- function(lk) {
  m <- nrow(lk)
  idx <- sort(unique(c(1:min(m, 20), seq(1, m, by = 150), max(1, m - 2):m)))
  list(n = N(lk$number_seq[idx]),
       lcl95 = N(lk$ll95[idx]), ucl95 = N(lk$ul95[idx]),
       lcl998 = N(lk$ll998[idx]), ucl998 = N(lk$ul998[idx]),
       od_lcl95 = N(lk$odll95[idx]), od_ucl95 = N(lk$odul95[idx]),
       od_lcl998 = N(lk$odll998[idx]), od_ucl998 = N(lk$odul998[idx]))
}

# numerators/denominators: record-level rows; groups: NULL (each row its own group,
# named 1..n as integers) or a character/integer vector.
run_case <- function(name, numerators, denominators, groups = NULL, data_type = "PR",
                     sr_method = "SHMI", adjusted = TRUE, unadjusted = FALSE, trim_by = 0.1,
                     multiplier = 1, shmi_rounding = TRUE, note = NULL) {
  a <- list(data_type = data_type, sr_method = sr_method, adjusted = adjusted,
            unadjusted = unadjusted, trim_by = trim_by, multiplier = multiplier,
            shmi_rounding = shmi_rounding)
  g <- if (is.null(groups)) seq_along(numerators) else groups
  d <- data.frame(num = numerators, den = denominators, grp = g, stringsAsFactors = FALSE)
  input <- c(list(numerators = N(numerators), denominators = N(denominators),
                  groups = if (is.null(groups)) NULL else I(groups)),
             modifyList(a, list(trim_by = N1(trim_by), multiplier = N1(multiplier))))
  r95 <- tryCatch(run_fp(d, 95, a), error = function(e) e)
  if (inherits(r95, "error")) {
    errors[[length(errors) + 1]] <<- list(name = name, input = input, r_error = conditionMessage(r95),
                                          note = note)
    return(invisible())
  }
  r99 <- run_fp(d, 99, a)
  ag <- r99$fp$aggregated_data; ag95 <- r95$fp$aggregated_data
  stopifnot(identical(as.character(ag$group), as.character(ag95$group)))
  vals <- unlist(ag[, c("numerator", "denominator", "rr", "Uzscore", "LCL95", "UCL95", "LCL99",
                        "UCL99", "OD95LCL", "OD95UCL", "OD99LCL", "OD99UCL", "outlier")])
  bad <- if (any(is.na(vals))) "NaN/NA in FunnelPlotR's output" else
    if (any(ag$denominator == 0)) "a zero denominator (ratio Inf, limits 0 and Inf)" else
    if (!is.finite(r99$fp$phi) || !is.finite(r99$fp$tau2)) "phi or tau2 is not finite" else NULL
  target <- if (data_type == "SR") 1 else sum(ag$numerator) / sum(ag$denominator)
  out <- list(
    name = name, note = note, input = input,
    expected = list(
      target = N1(target), centre = N1(target * multiplier),
      phi = N1(r99$fp$phi), tau2 = N1(r99$fp$tau2),
      adjusted = r99$fp$draw_adjusted, unadjusted = r99$fp$draw_unadjusted,
      messages = I(r99$messages), warnings = I(r99$warnings),
      units = list(group = I(as.character(ag$group)), numerator = N(ag$numerator),
                   denominator = N(ag$denominator), ratio = N(ag$rr * multiplier),
                   z = N(ag$Uzscore),
                   lcl95 = N(ag$LCL95), ucl95 = N(ag$UCL95), lcl998 = N(ag$LCL99),
                   ucl998 = N(ag$UCL99), od_lcl95 = N(ag$OD95LCL), od_ucl95 = N(ag$OD95UCL),
                   od_lcl998 = N(ag$OD99LCL), od_ucl998 = N(ag$OD99UCL),
                   outlier95 = I(as.integer(ag95$outlier)), outlier998 = I(as.integer(ag$outlier))),
      lookup = lookup_rows(r99$fp$limits_lookup)))
  if (!is.null(bad)) {
    errors[[length(errors) + 1]] <<- list(name = name, input = input, r_error = bad,
                                          r_phi = N1(r99$fp$phi), r_tau2 = N1(r99$fp$tau2),
                                          r_warnings = I(r99$warnings), note = note)
  } else {
    cases[[length(cases) + 1]] <<- out
  }
  invisible(out)
}

write_fixture <- function(path, generator) {
  cat(length(cases), "cases;", length(errors), "errors\n")
  for (e in errors) cat("  error", e$name, ":", e$r_error, "\n")
  # Compact JSON, one case per line.
  js <- function(x) toJSON(x, auto_unbox = TRUE, na = "null", null = "null",
                           json_verbatim = TRUE, digits = NA)
  lines <- function(xs) if (length(xs)) paste0("[\n", paste(sapply(xs, js), collapse = ",\n"),
                                               "\n]") else "[]"
  head <- js(list(generator = generator, package = "FunnelPlotR 0.6.0 (cran/FunnelPlotR 1bc9cf6)",
                  r_version = R.version.string))
  txt <- paste0(substr(head, 1, nchar(head) - 1), ',\n"roundings": ', js(roundings),
                ',\n"cases": ', lines(cases), ',\n"errors": ', lines(errors), "\n}")
  writeLines(txt, path)
}
