/** @jsxImportSource @kitajs/html */
import { Csrf, FieldError, Layout } from "../layout/layout.tsx";
import type { PageContext } from "../layout/page.ts";
import { CategoryIcon } from "./icons.tsx";

/** A category as the administration page shows it. */
export interface CategoryAdminItem {
  id: number;
  name: string;
  icon: string;
  position: number;
  torrents: number;
}

/** Longest name and the range of positions the forms take. */
export interface CategoryLimits {
  nameMax: number;
  positionMin: number;
  positionMax: number;
}

/** What a refused form gets back: which form, the values sent and the problems by field. */
export interface CategoryFormState {
  /** "new" for the form adding a category, else the id of the category edited or deleted. */
  form: "new" | number;
  values?: { name: string; icon: string; position: string };
  errors: Record<string, string>;
}

function IconChoice(props: { icons: readonly string[]; chosen: string; id: string }) {
  return (
    <fieldset class="icon-choice">
      <legend>Icon</legend>
      {props.icons.map((icon) => (
        <label title={icon}>
          <input
            type="radio"
            name="icon"
            value={icon}
            checked={icon === props.chosen}
            required
            id={`${props.id}-${icon}`}
          />
          <CategoryIcon name={icon} />
          <span class="icon-name" safe>
            {icon}
          </span>
        </label>
      ))}
    </fieldset>
  );
}

function CategoryFields(props: {
  id: string;
  values: { name: string; icon: string; position: string };
  icons: readonly string[];
  limits: CategoryLimits;
  errors?: Record<string, string>;
}) {
  return (
    <>
      <label>
        Name
        <input
          type="text"
          name="name"
          value={props.values.name}
          required
          maxlength={String(props.limits.nameMax)}
        />
        <FieldError errors={props.errors} name="name" />
      </label>
      <IconChoice icons={props.icons} chosen={props.values.icon} id={props.id} />
      <FieldError errors={props.errors} name="icon" />
      <label>
        Position in the list
        <input
          type="number"
          name="position"
          value={props.values.position}
          min={String(props.limits.positionMin)}
          max={String(props.limits.positionMax)}
          step="1"
          required
        />
        <span class="muted">Lower numbers come first; equal ones go by name.</span>
        <FieldError errors={props.errors} name="position" />
      </label>
    </>
  );
}

/** The administrators' page of categories: add, rename, re-order, change icon, delete. */
export function CategoriesAdminPage(props: {
  page: PageContext;
  categories: CategoryAdminItem[];
  icons: readonly string[];
  limits: CategoryLimits;
  state?: CategoryFormState;
  notice?: string;
}) {
  const { base } = props.page;
  const state = props.state;
  const errorsFor = (form: "new" | number) => (state && state.form === form ? state.errors : undefined);
  const nextPosition = props.categories.reduce((max, c) => Math.max(max, c.position), 0) + 10;
  return (
    <Layout page={props.page} title="Categories">
      <h1>Categories</h1>
      {props.notice ? (
        <div class="notice good" role="status" safe>
          {props.notice}
        </div>
      ) : (
        ""
      )}
      <p class="muted">
        Every torrent belongs to one category, chosen at upload. Members filter the torrent list by them.
      </p>
      {props.categories.length === 0 ? (
        <p class="notice">
          No categories yet: uploads need none until the first one is added, and every upload must choose one
          after that.
        </p>
      ) : (
        ""
      )}
      {props.categories.length > 0 ? (
        <table class="list category-admin">
          <thead>
            <tr>
              <th>Category</th>
              <th class="num">Position</th>
              <th class="num">Torrents</th>
              <th>Change</th>
            </tr>
          </thead>
          <tbody>
            {props.categories.map((category) => {
              const errors = errorsFor(category.id);
              const values =
                state && state.form === category.id && state.values
                  ? state.values
                  : { name: category.name, icon: category.icon, position: String(category.position) };
              const others = props.categories.filter((c) => c.id !== category.id);
              const id = String(category.id);
              return (
                <tr id={`category-${id}`}>
                  <td class="category-name" data-label="Category">
                    <CategoryIcon name={category.icon} /> <span safe>{category.name}</span>
                  </td>
                  <td class="num" data-label="Position">
                    {category.position}
                  </td>
                  <td class="num" data-label="Torrents">
                    {category.torrents}
                  </td>
                  <td>
                    {/* Inline edit: the row opens its own small form (open again when it was refused). */}
                    <details class="category-edit" open={errors !== undefined}>
                      <summary>Edit or delete</summary>
                      <form class="category-fields" method="post" action={`${base}/admin/categories/${id}`}>
                        <Csrf page={props.page} />
                        <label>
                          Name
                          <input
                            type="text"
                            name="name"
                            value={values.name}
                            required
                            maxlength={String(props.limits.nameMax)}
                          />
                          <FieldError errors={errors} name="name" />
                        </label>
                        <label>
                          Icon
                          <select name="icon" required>
                            {props.icons.map((icon) => (
                              <option value={icon} selected={icon === values.icon} safe>
                                {icon}
                              </option>
                            ))}
                          </select>
                          <FieldError errors={errors} name="icon" />
                        </label>
                        <label>
                          Position
                          <input
                            type="number"
                            name="position"
                            value={values.position}
                            min={String(props.limits.positionMin)}
                            max={String(props.limits.positionMax)}
                            step="1"
                            required
                          />
                          <FieldError errors={errors} name="position" />
                        </label>
                        <button type="submit">Save</button>
                      </form>
                      <form
                        class="row category-delete"
                        method="post"
                        action={`${base}/admin/categories/${id}/delete`}
                      >
                        <Csrf page={props.page} />
                        {category.torrents > 0 ? (
                          <label>
                            Move its torrents to
                            <select name="move_to" required>
                              <option value="">Choose a category</option>
                              {others.map((other) => (
                                <option value={String(other.id)} safe>
                                  {other.name}
                                </option>
                              ))}
                            </select>
                          </label>
                        ) : (
                          ""
                        )}
                        <button
                          class="danger"
                          type="submit"
                          disabled={category.torrents > 0 && others.length === 0}
                          data-confirm="Delete this category?"
                        >
                          Delete
                        </button>
                        <FieldError errors={errors} name="move_to" />
                      </form>
                    </details>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : (
        ""
      )}
      <p class="muted">Lower positions come first in the lists; equal ones go by name.</p>
      <h2>Add a category</h2>
      <form class="stack card" method="post" action={`${base}/admin/categories`}>
        <Csrf page={props.page} />
        <CategoryFields
          id="new"
          values={
            state && state.form === "new" && state.values
              ? state.values
              : { name: "", icon: props.icons[0] ?? "", position: String(nextPosition) }
          }
          icons={props.icons}
          limits={props.limits}
          errors={errorsFor("new")}
        />
        <div class="row">
          <button type="submit">Add</button>
        </div>
      </form>
    </Layout>
  );
}
