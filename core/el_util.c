/* el_util.c — see el_util.h. */
#include "el_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void
el_vec_init (el_vec_t *self, size_t item_size, size_t max)
{
    self->items = NULL;
    self->n = 0;
    self->cap = 0;
    self->max = max;
    self->item_size = item_size;
}

int
el_vec_push (el_vec_t *self, const void *item, void **ret)
{
    if (self->n >= self->max)
        return -ENOBUFS;
    if (self->n == self->cap) {
        size_t cap = self->cap ? self->cap * 2 : 8;
        if (cap > self->max)
            cap = self->max;
        if (cap > SIZE_MAX / self->item_size)
            return -ENOMEM;
        void *items = realloc (self->items, cap * self->item_size);
        if (!items)
            return -ENOMEM;
        self->items = items;
        self->cap = cap;
    }
    void *slot = el_vec_at (self, self->n);
    if (item)
        memcpy (slot, item, self->item_size);
    else
        memset (slot, 0, self->item_size);
    self->n++;
    if (ret)
        *ret = slot;
    return 0;
}

int
el_vec_insert (el_vec_t *self, size_t index, const void *item, void **ret)
{
    void *slot = NULL;
    int rc = el_vec_push (self, NULL, &slot);
    if (rc < 0)
        return rc;
    uint8_t *at = el_vec_at (self, index);
    memmove (at + self->item_size, at, (self->n - 1 - index) * self->item_size);
    if (item)
        memcpy (at, item, self->item_size);
    else
        memset (at, 0, self->item_size);
    if (ret)
        *ret = at;
    return 0;
}

void
el_vec_remove (el_vec_t *self, size_t index)
{
    uint8_t *at = el_vec_at (self, index);
    memmove (at, at + self->item_size, (self->n - 1 - index) * self->item_size);
    self->n--;
}

void
el_vec_clear (el_vec_t *self)
{
    self->n = 0;
}

void
el_vec_free (el_vec_t *self)
{
    free (self->items);
    el_vec_init (self, self->item_size, self->max);
}
