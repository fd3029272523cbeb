suppressMessages({library(NHSRplotthedots); library(jsonlite); library(dplyr)})
set.seed(20261126)
cases <- list()
J <- function(v) structure(paste0("[", paste(ifelse(is.na(v), "null", sprintf("%.17g", v)), collapse=","), "]"), class="json")
S <- function(v) if (is.null(v)) NULL else structure(sprintf("%.17g", v), class="json")
skipped <- list()

run_case <- function(name, y, improvement = "increase", target = NULL,
                     rebase_at = integer(0), fix_after = NULL, screen = TRUE) {
  n <- length(y)
  dates <- as.Date("2020-01-01") + 0:(n - 1)
  d <- data.frame(x = dates, y = as.double(y))
  rb <- if (length(rebase_at)) dates[rebase_at + 1] else NULL
  res <- tryCatch(suppressWarnings(ptd_spc(d, value_field = y, date_field = x,
                                           rebase = rb,
                                           fix_after_n_points = fix_after,
                                           improvement_direction = improvement,
                                           target = if (is.null(target)) ptd_target() else target,
                                           screen_outliers = screen)),
                  error = function(e) e)
  if (inherits(res, "error")) {
    skipped[[length(skipped) + 1]] <<- list(name = name, error = conditionMessage(res),
      input = list(values = J(as.numeric(y)), improvement = improvement, target = S(target),
                   rebase_at = I(as.integer(rebase_at)), fix_after = S(fix_after), screen_outliers = screen))
    return(invisible(NULL))
  }
  df <- as.data.frame(res)
  icons <- as.data.frame(ptd_get_icons(res))
  var_icon <- icons$icon[icons$type == "variation"]
  ass <- icons$icon[icons$type == "assurance"]
  rule <- ifelse(grepl("UCL|LCL", df$special_cause_type), "outside_limits",
          ifelse(grepl("Trend", df$special_cause_type), "trend",
          ifelse(grepl("^2 in 3", df$special_cause_type), "two_in_three",
          ifelse(grepl("^7 Points", df$special_cause_type), "shift", NA))))
  num <- function(v) { v <- as.numeric(v); v[!is.finite(v)] <- NA; J(v) }
  cases[[length(cases) + 1]] <<- list(
    name = name,
    input = list(values = num(y), improvement = improvement,
                 target = S(target), rebase_at = I(as.integer(rebase_at)),
                 fix_after = S(fix_after), screen_outliers = screen),
    expected = list(
      centre = num(df$mean_col), lower = num(df$lpl), upper = num(df$upl),
      phase = I(as.integer(df$rebase_group)),
      special_cause_type = I(df$special_cause_type),
      special_cause = I(df$special_cause_flag),
      rule = I(rule),
      point_type = I(df$point_type),
      short_group_warning = I(df$short_group_warning),
      variation_icon = var_icon,
      assurance = if (length(ass)) ass else NULL
    )
  )
}

