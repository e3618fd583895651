// A click on a marker such as [1] scrolls its card into view and highlights it
// (capture phase, so no other handler opens the link).
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#swg-"]');
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const card = document.getElementById(link.getAttribute("href").slice(1));
  if (!card) return;
  for (const other of document.querySelectorAll(".swg-card.swg-active")) {
    other.classList.remove("swg-active");
  }
  card.classList.add("swg-active");
  card.scrollIntoView({ behavior: "smooth", block: "center" });
  card.focus({ preventScroll: true });
}, true);
