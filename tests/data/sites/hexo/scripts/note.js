/* A theme's own tag, as themes register them: {% note %}…{% endnote %}. */
hexo.extend.tag.register('note', (args, content) => `<div class="note">${content}</div>`, { ends: true });
