// Draw Plotly charts embedded as JSON (CSP: no inline scripts).
//
// Markup: <div data-chart="chart-data-ID"></div> plus
// {{ figure|json_script:"chart-data-ID" }}. Load plotly.min.js before this file (both
// with defer). Without JavaScript the page still shows the icons, the reading and the
// data table; this only adds the picture.
(function () {
  'use strict'
  function draw (el) {
    if (el.dataset.chartDrawn) return
    var source = document.getElementById(el.dataset.chart)
    if (!source || typeof window.Plotly === 'undefined') return
    var fig
    try {
      fig = JSON.parse(source.textContent)
    } catch (e) {
      return
    }
    el.dataset.chartDrawn = '1'
    // The server's SVG of the same chart stays for print; on screen Plotly replaces it.
    var still = document.querySelector('[data-chart-static="' + el.id + '"]')
    if (still) still.classList.add('app-chart-static--drawn')
    window.Plotly.newPlot(el, fig.data || [], fig.layout || {}, {
      displaylogo: false,
      responsive: true
    })
  }
  function drawAll (root) {
    var els = (root || document).querySelectorAll('[data-chart]')
    for (var i = 0; i < els.length; i++) draw(els[i])
  }
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () { drawAll() })
  } else {
    drawAll()
  }
  // Charts swapped in by htmx.
  document.addEventListener('htmx:load', function (event) {
    if (event.detail && event.detail.elt) drawAll(event.detail.elt)
  })
})()
