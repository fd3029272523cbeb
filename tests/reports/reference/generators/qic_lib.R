suppressMessages({library(qicharts2); library(jsonlite)})
stopifnot(isTRUE(getOption("qic.screenedmr")))  # set by .onAttach of library(qicharts2)
set.seed(5150)
J <- function(v) structure(paste0("[", paste(ifelse(is.na(v), "null", sprintf("%.17g", v)), collapse=","), "]"), class="json")
S <- function(v) if (is.null(v)) NULL else structure(sprintf("%.17g", v), class="json")
numj <- function(v) { v <- as.numeric(v); v[!is.finite(v)] <- NA; J(v) }
cases <- list(); skipped <- list()

run_case <- function(name, chart, y, n = NULL, part = NULL, freeze = NULL, screened = TRUE) {
  old <- options(qic.screenedmr = screened)
  on.exit(options(old))
  x <- seq_along(y)
  d <- tryCatch(suppressWarnings(suppressMessages(
         if (is.null(n)) qic(x, y, chart = chart, part = part, freeze = freeze)
         else qic(x, y, n = n, chart = chart, part = part, freeze = freeze))),
       error = function(e) e)
  if (inherits(d, "error")) {
    skipped[[length(skipped) + 1]] <<- list(name = name, error = conditionMessage(d)); return(invisible())
  }
  parts <- lapply(split(d, d$part), function(p) list(
    part = p$part[1], start = min(p$xx) - 1L, n = nrow(p),
    n_useful = p$n.useful[1], longest_run = S(if (is.na(p$longest.run[1])) NULL else p$longest.run[1]),
    longest_run_max = S(if (is.na(p$longest.run.max[1])) NULL else p$longest.run.max[1]),
    crossings = S(if (is.na(p$n.crossings[1])) NULL else p$n.crossings[1]),
    crossings_min = S(if (is.na(p$n.crossings.min[1])) NULL else p$n.crossings.min[1]),
    runs_signal = p$runs.signal[1]))
  names(parts) <- NULL
  cases[[length(cases) + 1]] <<- list(
    name = name, chart = chart,
    input = list(y = numj(y), n = if (is.null(n)) NULL else numj(n),
                 parts_at = if (is.null(part)) list() else I(as.integer(part)),
                 freeze = S(freeze), screen_mr = screened),
    expected = list(y = numj(d$y), centre = numj(d$cl), lower = numj(d$lcl), upper = numj(d$ucl),
                    part = I(as.integer(d$part)), sigma_signal = I(d$sigma.signal), parts = parts))
}

