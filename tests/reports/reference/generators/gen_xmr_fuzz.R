source("xmr_lib.R")
set.seed(424242)
dirs <- c("increase", "decrease", "neutral")
for (i in 1:160) {
  n <- if (runif(1) < 0.15) sample(1:12, 1) else sample(13:40, 1)
  gen <- sample(1:5, 1)
  y <- switch(gen,
    rnorm(n, 10, 2),
    rpois(n, sample(c(1, 3, 10), 1)),
    round(rnorm(n, 100, 15), sample(0:2, 1)),
    cumsum(rnorm(n)),
    rnorm(n) + rep(c(0, sample(c(-3, 3), 1)), c(n %/% 2, n - n %/% 2)))
  if (runif(1) < 0.15 && n > 3) y[sample(n, 1)] <- y[1] + sample(c(-1, 1), 1) * 20 * sd(y[is.finite(y)] + 1)
  if (runif(1) < 0.1 && n >= 9) { s <- sample(1:(n - 8), 1); y[s:(s + 7)] <- sort(y[s:(s + 7)], decreasing = runif(1) < .5) }
  if (runif(1) < 0.25 && n > 3) y[sample(n, sample(1:min(3, n - 2), 1))] <- NA
  rb <- if (runif(1) < 0.25 && n > 6) sort(sample(2:(n - 2), sample(1:2, 1))) else integer(0)
  fa <- if (runif(1) < 0.2 && n > 14) sample(12:min(n, 25), 1) else NULL
  tgt <- if (runif(1) < 0.4) round(mean(y, na.rm = TRUE) + rnorm(1) * 3 * sd(y, na.rm = TRUE), 2) else NULL
  if (!is.null(tgt) && !is.finite(tgt)) tgt <- 1
  run_case(sprintf("fuzz_%03d", i), y, improvement = sample(dirs, 1), target = tgt,
           rebase_at = rb, fix_after = fa, screen = runif(1) < 0.8)
}
cat(length(cases), "cases;", length(skipped), "skipped\n")
out <- list(generator = "NHSRplotthedots::ptd_spc (reconstructed 0.2.x computation subset), random cases",
            r_version = R.version.string, dplyr_version = as.character(packageVersion("dplyr")),
            cases = cases, skipped = skipped)
writeLines(toJSON(out, auto_unbox = TRUE, na = "null", null = "null", json_verbatim = TRUE),
           "../xmr_nhsrplotthedots_random.json")
