// For tests/docs/test_site.py: once the page has loaded, record on <body> how many of its
// images decoded (complete, with a width) out of how many there are.
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var decoded = images.filter(function (img) {
    return img.complete && img.naturalWidth > 0;
  });
  document.body.setAttribute("data-images-decoded", String(decoded.length));
  document.body.setAttribute("data-images-total", String(images.length));
});
